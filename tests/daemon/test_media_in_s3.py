"""`MONITOR_MEDIA_URL=s3://bucket/prefix`: the collector writes photos to an S3-compatible
store (moto's server on loopback), named by SHA-256, once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from storage.models import media
from tests.daemon.conftest import Env, channels_yaml
from tests.s3_server import CREDENTIALS, s3_client, s3_endpoint_fixture  # noqa: F401 - a fixture
from tests.simulator.conftest import make_jpeg


async def test_collect_writes_photos_to_the_bucket_once(
    sim, open_db, s3_endpoint: str, tmp_path: Path
) -> None:
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="desk-media")
    alpha = sim.channel("alpha_sim", 1)
    photo = make_jpeg(seed=5)
    sim.backend.post(alpha.id, "first", photo=photo)
    sim.backend.post(alpha.id, "the same photo again", photo=photo)
    env = Env(tmp_path, server=sim.address)
    env.extra = {
        "MONITOR_MEDIA_URL": "s3://desk-media/archive",
        "AWS_ENDPOINT_URL": s3_endpoint,
        **CREDENTIALS,
    }
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    assert (await env.monitor("db", "upgrade"))[0] == 0

    code, _, err = await env.monitor("collect", "--channel", "@alpha_sim")

    assert code == 0, err
    sha = hashlib.sha256(photo).hexdigest()
    listed = client.list_objects_v2(Bucket="desk-media").get("Contents", [])
    assert [item["Key"] for item in listed] == [f"archive/{sha[:2]}/{sha[2:4]}/{sha}.jpg"]
    body = client.get_object(Bucket="desk-media", Key=listed[0]["Key"])["Body"].read()
    assert body == photo
    db = open_db(env.url)
    async with db.engine.connect() as conn:
        rows = list(await conn.execute(select(media.c.sha256, media.c.path)))
    assert [(r.sha256, r.path) for r in rows] == [(sha, f"{sha[:2]}/{sha[2:4]}/{sha}.jpg")]
    assert not (env.data_dir / "media").exists() or not any((env.data_dir / "media").rglob("*.jpg"))
