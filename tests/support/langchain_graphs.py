"""Small LangGraph teams on langchain-core's fake chat models, for the tests."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    messages: Annotated[list[Any], operator.add]
    next: str


def fake_model(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(r) for r in replies]))


def speaker(model: GenericFakeChatModel):
    def speak(state: State) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    return speak


def router(model: GenericFakeChatModel, routes: dict[str, str]):
    def route(state: State) -> dict[str, Any]:
        reply = model.invoke(state["messages"])
        return {"messages": [reply], "next": routes.get(str(reply.content), END)}

    return route


def team(name: str, workers: dict[str, str]):
    """A team: its lead speaks once, then each worker in turn."""
    graph = StateGraph(State)
    graph.add_node(f"{name}_lead", speaker(fake_model(f"{name} plan")))
    graph.add_edge(START, f"{name}_lead")
    previous = f"{name}_lead"
    for worker, reply in workers.items():
        graph.add_node(worker, speaker(fake_model(reply)))
        graph.add_edge(previous, worker)
        previous = worker
    graph.add_edge(previous, END)
    return graph.compile(name=name)


def supervisor_graph(teams: dict[str, dict[str, str]]):
    """A supervisor that hands the task to each team in turn, then answers."""
    names = list(teams)
    replies = [f"route {n}" for n in names] + ["all teams reported"]
    routes = {f"route {n}": n for n in names}
    graph = StateGraph(State)
    graph.add_node("supervisor", router(fake_model(*replies), routes))
    graph.add_edge(START, "supervisor")
    graph.add_conditional_edges("supervisor", lambda state: state["next"])
    for name, workers in teams.items():
        graph.add_node(name, team(name, workers))
        graph.add_edge(name, "supervisor")
    return graph.compile()
