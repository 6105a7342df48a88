from runstream.entrypoints.tailing.sse_parser import Frame, SseParser


def feed_all(parser: SseParser, text: str) -> list[Frame]:
    frames = [parser.feed(line) for line in text.splitlines(keepends=True)]
    return [frame for frame in frames if frame is not None]


def test_a_frame_is_dispatched_at_the_blank_line():
    parser = SseParser()

    frames = feed_all(parser, 'id: 5-0\nevent: llm.stream\ndata: {"a":1}\n\n')

    assert frames == [Frame("llm.stream", '{"a":1}', "5-0")]
    assert parser.last_event_id == "5-0"


def test_heartbeat_comments_produce_nothing():
    parser = SseParser()

    frames = feed_all(parser, ": heartbeat 2025-01-01T00:00:00.000Z\n\n")

    assert frames == []


def test_multi_line_data_is_joined_with_newlines_and_crlf_is_accepted():
    parser = SseParser()

    frames = feed_all(parser, "data: one\r\ndata:two\r\n\r\n")

    assert frames == [Frame("message", "one\ntwo", None)]


def test_the_last_event_id_survives_frames_without_an_id():
    parser = SseParser()

    feed_all(parser, "id: 7-1\ndata: x\n\nevent: close\ndata: {}\n\n")

    assert parser.last_event_id == "7-1"


def test_retry_is_read_and_unknown_fields_are_ignored():
    parser = SseParser()

    frames = feed_all(parser, "retry: 2500\nfoo: bar\ndata: x\n\n")

    assert parser.retry_ms == 2500
    assert frames == [Frame("message", "x", None)]
