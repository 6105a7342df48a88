"""/openapi.json describes exactly the service: its routes and its error codes."""

import re

from runstream.entrypoints.http.errors import DOMAIN_ERRORS, HTTP_ERRORS

# HTML pages of the viewer and HEAD/OPTIONS are not JSON endpoints.
NOT_DESCRIBED = {"viewer", None}


def app_routes(app):
    found = set()
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0] if "." in rule.endpoint else None
        if blueprint in NOT_DESCRIBED:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((path, method.lower()))
    return found


def spec_routes(spec):
    return {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }


def spec_codes(spec):
    codes = set()
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {})
                for part in schema.get("schema", {}).get("allOf", []):
                    for code in (
                        part.get("properties", {}).get("code", {}).get("enum", [])
                    ):
                        codes.add((code, int(status)))
    return codes


def test_every_route_of_the_app_is_described_and_nothing_else(app, client):
    spec = client.get("/openapi.json").json

    assert spec["openapi"].startswith("3.")
    assert spec_routes(spec) == app_routes(app)


def test_every_error_code_is_described_with_its_status_and_nothing_else(client):
    spec = client.get("/openapi.json").json
    table = {(code, status) for _, code, status in DOMAIN_ERRORS}
    generic = {(code, status) for status, code in HTTP_ERRORS.items()}

    described = spec_codes(spec)

    assert {code for code, _ in described} | {"NOT_FOUND", "METHOD_NOT_ALLOWED"} == {
        code for code, _ in table | generic
    }
    assert described <= table | generic
    assert set(
        spec["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    ) == {code for code, _ in table | generic}


def test_every_schema_reference_resolves(client):
    spec = client.get("/openapi.json").json
    text = str(spec)

    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in spec["components"]["schemas"]
