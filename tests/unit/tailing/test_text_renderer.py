import io
import json

from runstream.entrypoints.tailing.render import JsonRenderer, TextRenderer
from tests.support.tailing_fakes import envelope


def render(*envelopes: dict[str, object], colour: bool = False) -> str:
    out = io.StringIO()
    renderer = TextRenderer(out, io.StringIO(), colour=colour)
    for item in envelopes:
        renderer.event(item, json.dumps(item))
    renderer.finish()
    return out.getvalue()


def token(text: str, agent: str = "researcher") -> dict[str, object]:
    return envelope("llm", "stream", {"content": text}, agent=agent)


def test_one_agents_tokens_are_joined_on_one_line_after_its_name():
    text = render(token("Analysing"), token(" the"), token(" data"))

    assert text == "Researcher: Analysing the data\n"


def test_another_agent_speaking_ends_the_line_and_the_name_returns_later():
    text = render(token("a"), token("b", "writer"), token("c"))

    assert text.splitlines() == ["Researcher: a", "Writer: b", "Researcher: c"]


def test_lifecycle_and_dispatch_events_are_short_lines():
    started = envelope("lifecycle", "started", {"task": "Write a report"})
    assigned = envelope(
        "dispatch", "assigned", {"to": "writer", "task": "draft"}, "lead"
    )
    failed = envelope("lifecycle", "failed", {"error": "model timeout"})

    text = render(started, token("x"), assigned, failed)

    assert text.splitlines() == [
        "* run 1 started: Write a report",
        "Researcher: x",
        "-> Lead assigned -> writer: draft",
        "! run 1 failed: model timeout",
    ]


def test_plain_output_has_no_escape_codes_and_colour_output_has_them():
    assert "\033[" not in render(token("x"))
    assert "\033[" in render(token("x"), colour=True)


def test_newlines_in_a_token_start_a_new_line_with_the_agents_name():
    text = render(token("one\ntwo"))

    assert text.splitlines() == ["Researcher: one", "Researcher: two"]


def test_a_gap_is_announced():
    out = io.StringIO()
    renderer = TextRenderer(out, io.StringIO(), colour=False)

    renderer.gap({"last_event_id": "1-0", "first_available_id": "9-0"})

    assert "9-0" in out.getvalue() and out.getvalue().startswith("!")


def test_json_lines_are_the_envelopes_as_received_and_notices_go_to_stderr():
    out, err = io.StringIO(), io.StringIO()
    renderer = JsonRenderer(out, err)

    renderer.event({}, '{"id":"1-0"}')
    renderer.notice("reconnecting")

    assert out.getvalue() == '{"id":"1-0"}\n'
    assert "reconnecting" in err.getvalue()


def test_a_returned_result_names_the_supervisor_it_went_to():
    lead = envelope("llm", "stream", {"content": "plan"}, agent="lead")
    result = envelope("dispatch", "completed", {"to": "lead", "result": "long text"})
    result["source"] = envelope("llm", "stream", agent="researcher")["source"]

    text = render(lead, result)

    assert text.splitlines()[-1] == "-> Researcher returned a result to Lead"
