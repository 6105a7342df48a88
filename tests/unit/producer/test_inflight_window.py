import json
import threading

from runstream.entrypoints.producer.inflight import Group, Window


def group(n: int, events: int = 1, run_id: int = 7) -> Group:
    return Group(run_id, f"key-{n}", [b'{"n":%d}' % n] * events)


def test_a_group_is_one_message_with_its_run_key_and_events():
    message = json.loads(group(3, events=2).message)

    assert message == {"run": 7, "key": "key-3", "events": [{"n": 3}, {"n": 3}]}
    assert json.loads(group(3).events_body) == {"events": [{"n": 3}]}


def test_groups_are_sent_once_per_connection_and_all_again_on_a_new_one():
    window = Window()
    window.add([group(1), group(2)])
    first = window.unsent()
    window.add([group(3)])
    second = window.unsent()

    window.new_connection()
    again = window.unsent()

    assert [g.key for g in first] == ["key-1", "key-2"]
    assert [g.key for g in second] == ["key-3"]
    assert [g.key for g in again] == ["key-1", "key-2", "key-3"]
    assert all(g.ever_sent for g in again)


def test_only_the_oldest_group_is_answered():
    window = Window()
    window.add([group(1), group(2)])

    out_of_order = window.pop("key-2")
    oldest = window.pop("key-1")

    assert out_of_order is None
    assert oldest is not None and oldest.key == "key-1"
    assert [g.key for g in window.unsent()] == ["key-2"]


def test_waiting_for_an_empty_window_ends_with_the_last_answer():
    window = Window()
    window.add([group(1, events=3), group(2, events=1)])
    waiter = threading.Thread(target=window.wait_empty, args=(lambda: False,))
    waiter.start()

    window.pop("key-1")
    waiting = waiter.is_alive()
    window.pop("key-2")
    waiter.join(10)

    assert waiting
    assert not waiter.is_alive()
    assert window.events == 0


def test_a_split_group_is_replaced_in_place_by_its_parts():
    window = Window()
    window.add([group(1, events=2), group(2)])

    window.replace_head([group(10), group(11)])

    assert [g.key for g in window.unsent()] == ["key-10", "key-11", "key-2"]
    assert window.events == 3
