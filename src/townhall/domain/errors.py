"""Domain errors; the API maps each family to one status code of the error envelope."""


class DomainError(Exception):
    """Base of every rule violation; `code` is the machine-readable code clients see."""

    code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class Malformed(DomainError):
    """Input that cannot even be read as what it claims to be (400)."""

    code = "malformed"


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule (422)."""

    code = "invalid"


class NotFound(DomainError):
    """Unknown, or not visible to the caller (404)."""

    code = "not_found"


class Unauthenticated(DomainError):
    """No or bad credentials (401)."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """Not allowed for this caller (403)."""

    code = "forbidden"


class Conflict(DomainError):
    """Clashes with the current state (409)."""

    code = "conflict"


class RateLimited(DomainError):
    """Too many attempts (429); `retry_after_s` goes to the Retry-After header."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)
