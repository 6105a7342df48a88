"""Two apps in one process (tests do this) share no state by accident."""

from __future__ import annotations

from tests.support.apps import close_app, make_app


def test_each_app_serves_from_its_own_container():
    first, second = make_app(), make_app()
    clients = first.test_client(), second.test_client()

    created = clients[0].post("/runs", json={"task": "in the first app"})
    run_id = created.json["id"]
    seen_by = [c.get(f"/runs/{run_id}").status_code for c in clients]
    listed = [len(c.get("/runs").json["runs"]) for c in clients]
    for app in (first, second):
        close_app(app)

    assert created.status_code == 201
    assert first.container.run_repository().get(run_id).task == "in the first app"
    assert seen_by == [200, 404]
    assert listed == [1, 0]
