"""The live Spaces where people you follow are on stage: the row atop the home timeline."""

from sqlalchemy import exists, or_
from sqlalchemy.orm import Session

from townhall.domain.spaces.lifecycle import SpaceState
from townhall.storage.spaces import discovery_query
from townhall.storage.tables import FollowRow, SpaceParticipantRow, SpaceRow


def followed_live_spaces(session: Session, viewer_id: int, limit: int) -> list[SpaceRow]:
    """Hosted by, or with a speaker or co-host who is, someone the viewer follows; biggest
    audience first. Spaces hidden from the viewer by a block are left out."""
    follows = FollowRow.follower_id == viewer_id
    followed_on_stage = exists().where(
        follows,
        FollowRow.followee_id == SpaceParticipantRow.user_id,
        SpaceParticipantRow.space_id == SpaceRow.id,
        SpaceParticipantRow.present.is_(True),
        SpaceParticipantRow.role.in_(("cohost", "speaker")),
    )
    followed_host = exists().where(follows, FollowRow.followee_id == SpaceRow.host_id)
    query = (
        discovery_query(viewer_id, SpaceState.LIVE, None)
        .where(or_(followed_host, followed_on_stage))
        .order_by(SpaceRow.participant_count.desc(), SpaceRow.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
