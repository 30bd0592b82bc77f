"""`crosspost schema`: JSON Schema for editors, generated from the models `validate` uses.

The schemas must be valid draft 2020-12, equal the committed schema/*.schema.json, accept every
file `validate` accepts, and reject the mistakes `validate` rejects wherever a schema can say
so (the bad-input corpus drives this; zones, templates and references stay `validate`'s job).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import Problem
from pipeline.source import read_yaml
from tests.conftest import CAMPAIGN, CHANNELS, REPO
from tests.test_bad_inputs import CASES, build

jsonschema = pytest.importorskip("jsonschema")

KINDS = ("campaign", "channels")
BAD = Path(__file__).parent / "data" / "bad"

#: bad-input cases whose mistake the schema can express: the schema must reject exactly these
#: (every other case, once its YAML parses, must pass the schema: its mistake is one only
#: `validate` can see, such as an unknown zone or a missing template)
SCHEMA_REJECTS = {
    "channel-api-base-not-url",
    "channel-facebook-without-page-id",
    "channel-mastodon-without-instance",
    "channel-native-scheduling-on-x",
    "channel-page-id-on-x",
    "channel-thread-on-facebook",
    "channel-unknown-language",
    "channel-unknown-platform",
    "channels-list-not-mapping",
    "channels-page-id-number",
    "duration-1h30",
    "duration-2x",
    "duration-empty",
    "duration-negative",
    "duration-number",
    "schema-boolean-as-text",
    "schema-campaign-id-with-slash",
    "schema-id-with-slash",
    "schema-missing-required",
    "schema-missing-title",
    "schema-unknown-key-campaign",
    "schema-unknown-key-channel",
    "schema-unknown-key-event",
    "schema-unknown-key-moment",
    "schema-unknown-key-post",
    "schema-wrong-type-cancelled",
    "schema-wrong-type-channels",
    "schema-wrong-type-title",
    "schema-yaml-tag",
    "time-date-only",
    "time-not-a-time",
    "time-number",
    "yaml-empty-file",
    "yaml-list-not-mapping",
}


def printed(cli, kind: str) -> dict:
    result = cli("schema", kind)
    assert result.code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def validators() -> dict:
    from pipeline.schema import schema

    return {kind: jsonschema.Draft202012Validator(schema(kind)) for kind in KINDS}


def errors(validators, root: Path) -> list[str]:
    """Schema errors of a repository's channels.yaml and campaign files, read as validate
    reads them (ruamel, times kept as text); files that do not parse are skipped."""
    files = [("channels", root / "channels.yaml")]
    files += [("campaign", p) for p in sorted((root / "campaigns").glob("*.y*ml"))]
    found = []
    for kind, path in files:
        if not path.exists():
            continue
        doc = read_yaml(path, path.name)
        if isinstance(doc, Problem):
            continue
        found += [f"{path.name}: {e.message}" for e in validators[kind].iter_errors(doc.data)]
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_printed_schema_is_valid_draft_2020_12_and_committed(cli, kind):
    schema = printed(cli, kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    committed = REPO / "schema" / f"{kind}.schema.json"
    assert json.loads(committed.read_text(encoding="utf-8")) == schema, (
        f"{committed.name} drifted from the models: run "
        f"`crosspost schema {kind} > schema/{kind}.schema.json`"
    )
    assert committed.read_text(encoding="utf-8") == cli("schema", kind).stdout


def test_schema_defaults_to_campaign_and_refuses_other_kinds(cli):
    assert cli("schema").stdout == cli("schema", "campaign").stdout
    assert cli("schema", "campaigns").code == 2


def _properties(node, where=()):
    """Every (path, property schema) of a schema, through $defs."""
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            if isinstance(prop, dict):
                yield (*where, name), prop
        for key, value in node.items():
            if key not in ("properties", "if", "then"):
                yield from _properties(value, (*where, key))
    elif isinstance(node, list):
        for value in node:
            yield from _properties(value, where)


@pytest.mark.parametrize("kind", KINDS)
def test_every_key_has_a_title_a_description_and_an_example(cli, kind):
    whole = printed(cli, kind)
    props = list(_properties(whole))
    assert len(props) > 8
    for where, prop in props:
        assert prop.get("title"), where
        assert prop.get("description"), where
        assert prop.get("examples"), where
        for example in prop["examples"]:  # the examples themselves obey the key's schema
            checked = {**prop, "$defs": whole["$defs"]}
            jsonschema.validate(example, checked, cls=jsonschema.Draft202012Validator)


def test_durations_zones_and_localised_maps_are_explained(cli):
    defs = printed(cli, "campaign")["$defs"]
    before = defs["Moment"]["properties"]["before"]
    assert before["type"] == "string" and before["pattern"]
    assert "1d12h" in before["description"]
    assert "IANA" in printed(cli, "campaign")["properties"]["timezone"]["description"]
    title = defs["Event"]["properties"]["title"]
    assert {"string", "object"} <= {a.get("type") for a in title["anyOf"]}
    # the whole file's shape: a mapping of channel names, each closed to unknown keys
    channels = printed(cli, "channels")
    assert channels["additionalProperties"] == {"$ref": "#/$defs/Channel"}
    assert channels["$defs"]["Channel"]["additionalProperties"] is False
    for name in ("Moment", "OneOffPost", "Event"):
        assert defs[name]["additionalProperties"] is False


def _init_repo(tmp_path: Path) -> Path:
    from datetime import UTC, datetime

    from pipeline.init import DEFAULT_ACTION, Action, init

    root = tmp_path / "new-org"
    init(root, ["en", "tr", "ku"], Action.parse(DEFAULT_ACTION), datetime(2026, 3, 1, tzinfo=UTC))
    return root


def test_schemas_accept_every_valid_repository(validators, repo, tmp_path):
    roots = [REPO, repo.root, BAD / "_base", _init_repo(tmp_path)]
    for root in roots:
        assert errors(validators, root) == [], root
    # and the fixtures' texts themselves
    assert (repo.root / "channels.yaml").read_text() == CHANNELS
    assert (repo.root / "campaigns" / "spring.yaml").read_text() == CAMPAIGN


@pytest.mark.parametrize("case", CASES)
def test_schemas_reject_the_bad_inputs_they_can_express(validators, case, tmp_path):
    root = tmp_path / "repo"
    build(case, root)
    found = errors(validators, root)
    if case in SCHEMA_REJECTS:
        assert found, f"{case}: the schema accepts what validate refuses"
    else:
        assert found == [], f"{case}: list it in SCHEMA_REJECTS if the schema can say so"


# Mistakes beyond the corpus, each refused by `validate` too (checked here, not assumed).
CHANNEL_MISTAKES = {
    "telegram without chat": "t: {platform: telegram, language: ku}",
    "bluesky without handle": "b: {platform: bluesky, language: en}",
    "mastodon visibility": "m: {platform: mastodon, language: en, instance: https://a.b, "
    "visibility: secret}",
    "zero max_characters": "m: {platform: mastodon, language: en, instance: https://a.b, "
    "max_characters: 0}",
    "long_posts on bluesky": "b: {platform: bluesky, language: en, handle: a.b, long_posts: true}",
    "chat on facebook": 'f: {platform: facebook, language: en, page_id: "1", chat: "@a"}',
    "page_id without value": "f: {platform: facebook, language: en, page_id: }",
    "env_prefix with dash": "x: {platform: x, language: en, env_prefix: X-MAIN}",
    "no language": "x: {platform: x}",
}
CAMPAIGN_MISTAKES = {
    "moment image as text": ("image: true}", 'image: "yes"}'),
    "expires without unit": ("expires: 30m}", "expires: 30}"),
    "title language as number": ('{en: "Seeds of change"', "{en: 7"),
    "empty channels": ("channels: [facebook-en, facebook-tr, x-en]", "channels: []"),
    "typo in events": ("events:", "evnets:"),
    "show_timezones not a list": (
        "show_timezones: [Europe/London, Europe/Istanbul]",
        "show_timezones: Europe/London",
    ),
}


@pytest.mark.parametrize("mistake", CHANNEL_MISTAKES)
def test_channel_mistakes_refused_by_both(cli, validators, repo, mistake):
    repo.write("channels.yaml", CHANNELS + CHANNEL_MISTAKES[mistake] + "\n")
    assert errors(validators, repo.root), mistake
    result = cli("validate", "--root", repo.root)
    assert result.code == 1 and "channels.yaml:" in result.stdout, result.output


@pytest.mark.parametrize("mistake", CAMPAIGN_MISTAKES)
def test_campaign_mistakes_refused_by_both(cli, validators, repo, mistake):
    old, new = CAMPAIGN_MISTAKES[mistake]
    assert old in CAMPAIGN
    repo.write("campaigns/spring.yaml", CAMPAIGN.replace(old, new, 1))
    assert errors(validators, repo.root), mistake
    result = cli("validate", "--root", repo.root)
    assert result.code == 1 and "campaigns/spring.yaml:" in result.stdout, result.output


def test_bundled_and_init_files_point_editors_at_the_schema(tmp_path):
    root = _init_repo(tmp_path)
    for base in (REPO, root):
        first = (base / "channels.yaml").read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=schema/channels.schema.json"
        assert (base / "schema" / "channels.schema.json").is_file()
        for campaign in (base / "campaigns").glob("*.yaml"):
            first = campaign.read_text().splitlines()[0]
            assert first == "# yaml-language-server: $schema=../schema/campaign.schema.json"
            assert (campaign.parent / "../schema/campaign.schema.json").resolve().is_file()


def test_validate_builds_no_schema_and_never_imports_jsonschema():
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr))\n"
        "from pipeline.cli import main\n"
        f"sys.argv = ['crosspost', 'validate', '--root', {str(REPO)!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    modules = set(done.stderr.split("MODULES", 1)[1].split())
    assert "pipeline.load" in modules
    assert not {"jsonschema", "pipeline.schema", "pipeline.init"} & modules
