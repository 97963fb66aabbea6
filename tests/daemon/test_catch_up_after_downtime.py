"""After downtime the daemon catches up at once: edits and deletions made while it was stopped
are recorded on start, not at the next 30-minute re-check (channels not joined get no pushed
updates, so only the re-check can see them)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import post, post_version
from tests.daemon.conftest import Database, Env, channels_yaml, until


async def _versions(db: Database, channel_id: int, message_id: int) -> list[str]:
    query = (
        select(post_version.c.text)
        .join(post, post.c.id == post_version.c.post_id)
        .where(post.c.channel_id == channel_id, post.c.message_id == message_id)
        .order_by(post_version.c.id)
    )
    async with db.engine.connect() as conn:
        return [row.text for row in await conn.execute(query)]


async def _deleted(db: Database, channel_id: int, message_id: int) -> bool:
    query = select(post.c.deleted_at).where(
        post.c.channel_id == channel_id, post.c.message_id == message_id
    )
    async with db.engine.connect() as conn:
        return (await conn.execute(query)).scalar_one() is not None


async def test_edits_deletions_and_new_posts_made_while_stopped_are_recorded_on_restart(
    sim, daemons, open_db, db_url: str, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 5, joined=False)
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    # Polls an hour apart: the new posts come from the first poll at start, the edit and the
    # deletion only from a re-check.
    env.channels_file.write_text(channels_yaml("alpha_sim", poll_every="1h"))
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(lambda: db.has_posts(sim.message_keys(alpha)), "the first posts")
    assert await daemon.stop() == 0, daemon.log_tail()

    # While the daemon is down: an edit, a deletion, two new posts.
    sim.backend.edit(alpha.id, 2, "alpha_sim bulletin 1, corrected")
    sim.backend.delete(alpha.id, [3])
    new = [sim.backend.post(alpha.id, f"posted while down {i}").id for i in range(2)]
    again = await env.start_daemon()
    daemons.append(again)

    async def caught_up() -> bool:
        return (
            len(await _versions(db, alpha.id, 2)) == 2
            and await _deleted(db, alpha.id, 3)
            and await db.has_posts({(alpha.id, m) for m in new})
        )

    await until(caught_up, "the edit, the deletion and the new posts", context=again.log_tail)
    assert await again.stop() == 0, again.log_tail()
    assert (await _versions(db, alpha.id, 2))[-1] == "alpha_sim bulletin 1, corrected"
    assert not await _deleted(db, alpha.id, 2)
    assert sorted(await db.post_keys()) == sorted({(alpha.id, m) for m in range(1, 8)})
