import pytest

from runstream.entrypoints.producer import websocket as ws


def test_the_accept_value_is_the_one_of_the_rfc_example():
    assert ws.accept_value("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
@pytest.mark.parametrize("masked", [True, False])
def test_a_frame_of_any_length_reads_back_as_written(size, masked):
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    reader = ws.FrameReader(masked=masked, limit=1 << 20)

    frames = reader.feed(ws.encode(ws.TEXT, payload, masked))

    assert frames == [ws.Frame(ws.TEXT, payload)]


def test_a_masked_frame_does_not_carry_its_payload_in_clear():
    frame = ws.encode(ws.TEXT, b'{"run":1,"key":"k","events":[]}', masked=True)

    assert b'"run"' not in frame


def test_frames_fed_a_byte_at_a_time_come_out_whole_and_in_order():
    wire = b"".join(ws.encode(ws.TEXT, m, True) for m in (b"one", b"two" * 100))
    reader = ws.FrameReader(masked=True, limit=1000)

    frames = [f for i in range(len(wire)) for f in reader.feed(wire[i : i + 1])]

    assert [f.payload for f in frames] == [b"one", b"two" * 100]


def fragment(opcode: int, payload: bytes, fin: bool, masked: bool = False) -> bytes:
    whole = ws.encode(opcode, payload, masked)
    return bytes([(0x80 if fin else 0) | opcode]) + whole[1:]


def test_a_message_an_intermediary_fragmented_is_joined_around_a_ping():
    wire = (
        fragment(ws.TEXT, b'{"a":', fin=False)
        + ws.encode(ws.PING, b"p", masked=False)
        + fragment(ws.CONTINUATION, b"1}", fin=True)
    )
    reader = ws.FrameReader(masked=False, limit=1000)

    frames = reader.feed(wire)

    assert frames == [ws.Frame(ws.PING, b"p"), ws.Frame(ws.TEXT, b'{"a":1}')]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (ws.encode(ws.TEXT, b"x", masked=False), "masked"),
        (ws.encode(0x2, b"x", masked=True), "opcode"),
        (ws.encode(ws.TEXT, b"x" * 101, masked=True), "limit"),
        (fragment(ws.CONTINUATION, b"x", True, masked=True), "continuation"),
        (bytes([0xC1]) + ws.encode(ws.TEXT, b"x", True)[1:], "reserved"),
    ],
    ids=["unmasked", "opcode", "limit", "continuation", "reserved"],  # masks vary
)
def test_a_frame_that_breaks_the_framing_is_refused(wire, message):
    reader = ws.FrameReader(masked=True, limit=100)

    with pytest.raises(ws.FrameError, match=message):
        reader.feed(wire)
