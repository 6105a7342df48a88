import pytest

from runstream.adapters.simulated.params import SimParams, parse_params
from runstream.domain.errors import InvalidRequest


def test_no_params_means_the_defaults():
    assert parse_params({}) == SimParams()


def test_given_params_are_taken():
    params = parse_params(
        {
            "teams": 3,
            "workers_per_team": 4,
            "tokens_per_worker": 500,
            "seed": 1,
            "jitter": 0,
            "languages": ["ja", "ja", "en"],
            "fail_at": "dispatch",
        }
    )

    assert (params.teams, params.workers_per_team, params.tokens_per_worker) == (
        3,
        4,
        500,
    )
    assert params.languages == ("ja", "en")
    assert params.fail_at == "dispatch"


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ({"teams": 0}, "params.teams must be an integer from 1 to 10"),
        ({"teams": 11}, "params.teams"),
        ({"workers_per_team": "4"}, "params.workers_per_team"),
        ({"tokens_per_worker": True}, "params.tokens_per_worker"),
        ({"chunk_size": 0}, "params.chunk_size"),
        ({"chunk_delay_ms": -1}, "params.chunk_delay_ms"),
        ({"seed": 1.5}, "params.seed"),
        ({"jitter": 2}, "params.jitter"),
        ({"languages": []}, "params.languages"),
        ({"languages": ["tlh"]}, "unknown"),
        ({"fail_at": "lunch"}, "params.fail_at must be one of"),
        ({"fail_message": "x"}, "need fail_at"),
        ({"fail_at": "dispatch", "fail_message": ""}, "params.fail_message"),
        ({"tems": 3}, "unknown params: tems"),
    ],
)
def test_a_bad_param_is_refused_by_name(raw, names):
    with pytest.raises(InvalidRequest, match=names):
        parse_params(raw)


def test_a_run_of_more_than_a_million_tokens_is_refused():
    raw = {"teams": 10, "workers_per_team": 10, "tokens_per_worker": 10_001}

    with pytest.raises(InvalidRequest, match="would stream 1,000,100 tokens"):
        parse_params(raw)


def test_a_run_that_would_last_over_an_hour_is_refused():
    raw = {"tokens_per_worker": 100_000, "chunk_size": 1, "chunk_delay_ms": 100}

    with pytest.raises(InvalidRequest, match="would last about"):
        parse_params(raw)
