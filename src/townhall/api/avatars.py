"""Avatar uploads: decoded and re-encoded by Pillow, so no uploaded bytes are ever served."""

import io
import secrets
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from townhall.api.errors import ApiError

ACCEPTED_TYPES = ("image/png", "image/jpeg", "image/webp")
AVATAR_SIZE_PX = 400
MAX_SOURCE_PIXELS = 40_000_000


def store_avatar(media_dir: Path, user_id: int, data: bytes) -> str:
    """Returns the path under media_dir of a square WebP made from the upload."""
    if not data:
        raise ApiError(422, "The image is empty.", code="invalid_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ("PNG", "JPEG", "WEBP"):
                raise ApiError(415, "Avatars must be PNG, JPEG or WebP images.")
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise ApiError(413, "That image has too many pixels.", code="too_large")
            image.load()
    except ApiError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombWarning) as exc:
        raise ApiError(422, "That is not a readable image.", code="invalid_image") from exc
    side = min(image.width, image.height)
    left = (image.width - side) // 2
    top = (image.height - side) // 2
    square = image.convert("RGB").crop((left, top, left + side, top + side))
    square = square.resize((AVATAR_SIZE_PX, AVATAR_SIZE_PX), Image.Resampling.LANCZOS)
    relative = f"avatars/{user_id}-{secrets.token_hex(8)}.webp"
    target = media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    square.save(target, format="WEBP", quality=85)
    return relative


def remove_avatar(media_dir: Path, relative: str) -> None:
    """Deletes a replaced avatar; only ever a file of ours, under media_dir/avatars."""
    root = (media_dir / "avatars").resolve()
    target = (media_dir / relative).resolve()
    if target.parent == root:
        target.unlink(missing_ok=True)
