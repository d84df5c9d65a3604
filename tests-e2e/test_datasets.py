"""Datasets: upload in every format, content addressing, list/get/delete, and every ingest error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import Api, assert_problem, long_spec, npy_bytes, parse_time, sha256

RESOURCE_FIELDS = {"id", "name", "rows", "columns", "feature_names", "created_at", "bytes", "sha256",
                   "target_summary"}


def check_resource(response, body: bytes, *, rows: int, columns: int, feature_names, name, targets,
                   status: int = 201) -> dict:
    """The answer to an upload: status, Location, and every field of the resource against the data."""
    assert response.status == status, response
    assert response.content_type == "application/json", response
    resource = response.json()
    assert set(resource) == RESOURCE_FIELDS, sorted(resource)
    assert resource["id"].startswith("ds_"), resource["id"]
    if status == 201:
        assert response.header("Location") == f"/v1/datasets/{resource['id']}", response.headers
    assert resource["name"] == name
    assert resource["rows"] == rows
    assert resource["columns"] == columns
    assert resource["feature_names"] == list(feature_names)
    parse_time(resource["created_at"])
    assert resource["bytes"] == len(body)
    assert resource["sha256"] == sha256(body)
    targets = np.asarray(targets, dtype=float)
    summary = resource["target_summary"]
    assert set(summary) == {"min", "max", "mean", "distinct"}, summary
    assert summary["min"] == pytest.approx(targets.min(), rel=1e-6)
    assert summary["max"] == pytest.approx(targets.max(), rel=1e-6)
    assert summary["mean"] == pytest.approx(targets.mean(), rel=1e-6, abs=1e-9)
    assert summary["distinct"] == len(np.unique(targets))
    return resource


def unique_rows(seed: int, n: int = 6, d: int = 3) -> np.ndarray:
    """Data no other test uploads, so that a first upload is a 201 however the tests are ordered."""
    return np.round(np.random.default_rng(seed).normal(size=(n, d)), 6)


# --------------------------------------------------------------------------------------------- formats
def test_json_upload_creates_then_same_content_returns_the_same_dataset(api: Api):
    data = unique_rows(101)
    document = {"name": "json-upload", "features": data[:, :2].tolist(), "targets": [1, 2, 2, 3, 3, 3],
                "sample_weights": [1, 1, 1, 2, 0.5, 1], "feature_names": ["a", "b"]}
    body = json.dumps(document).encode()
    first = api.upload(body, "application/json")
    resource = check_resource(first, body, rows=6, columns=2, feature_names=["a", "b"], name="json-upload",
                              targets=document["targets"])

    again = api.upload(body, "application/json; charset=utf-8")
    assert again.status == 200, again
    assert again.json() == resource

    fetched = api.get(f"/v1/datasets/{resource['id']}")
    assert fetched.status == 200, fetched
    assert fetched.json() == resource


def test_json_upload_without_names_gets_x0_names_and_a_null_name(api: Api):
    data = unique_rows(102, d=4)
    body = json.dumps({"features": data.tolist(), "targets": [0, 1, 0, 1, 1, 0]}).encode()
    check_resource(api.upload(body, "application/json"), body, rows=6, columns=4,
                   feature_names=["x0", "x1", "x2", "x3"], name=None, targets=[0, 1, 0, 1, 1, 0])


def test_csv_upload_with_a_target_column_and_a_weight_column(api: Api):
    data = unique_rows(103, d=4)
    header = "alpha,y,beta,w"
    lines = [header] + [f"{r[0]},{r[1]},{r[2]},{abs(r[3])}" for r in data]
    body = ("\n".join(lines) + "\n").encode()
    resource = check_resource(api.upload(body, "text/csv", "?target=y&weight=w&name=from-csv"), body, rows=6,
                              columns=2, feature_names=["alpha", "beta"], name="from-csv", targets=data[:, 1])
    # The same bytes parsed with other parameters are another dataset.
    other = api.upload(body, "text/csv", "?target=beta")
    check_resource(other, body, rows=6, columns=3, feature_names=["alpha", "y", "w"], name=None,
                   targets=data[:, 2])
    assert other.json()["id"] != resource["id"]


def test_csv_upload_takes_the_last_column_as_target_by_default(api: Api):
    data = unique_rows(104)
    body = ("p,q,r\r\n" + "".join(f"{a},{b},{c}\r\n" for a, b, c in data)).encode()
    check_resource(api.upload(body, "text/csv"), body, rows=6, columns=2, feature_names=["p", "q"], name=None,
                   targets=data[:, 2])


@pytest.mark.parametrize("dtype", ["<f4", "<f8"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_npy_upload_float32_and_float64_in_c_and_fortran_order(api: Api, dtype, order):
    seed = 105 + (dtype == "<f8") * 2 + (order == "F")
    data = np.array(unique_rows(seed, n=9, d=4), dtype=dtype, order=order)
    assert data.flags.f_contiguous == (order == "F")
    body = npy_bytes(data)
    check_resource(api.upload(body, "application/x-npy", "?name=arr"), body, rows=9, columns=3,
                   feature_names=["x0", "x1", "x2"], name="arr", targets=data[:, 3].astype(np.float64))
    # target_index picks another column; the features are the others, in order.
    other = api.upload(body, "application/x-npy", "?target_index=0")
    check_resource(other, body, rows=9, columns=3, feature_names=["x0", "x1", "x2"], name=None,
                   targets=data[:, 0].astype(np.float64))


def test_fortran_and_c_order_of_the_same_matrix_describe_the_same_data(api: Api):
    """Same values, different memory layout: the targets (last column) must agree."""
    data = unique_rows(120, n=7, d=3)
    c = api.upload(npy_bytes(np.ascontiguousarray(data)), "application/x-npy").json()
    f = api.upload(npy_bytes(np.asfortranarray(data)), "application/x-npy").json()
    assert c["id"] != f["id"]  # different bytes
    assert c["target_summary"] == f["target_summary"]
    assert c["target_summary"]["mean"] == pytest.approx(data[:, 2].mean(), rel=1e-12)


# --------------------------------------------------------------------------------------------- list/get/delete
def test_list_get_and_delete(api: Api):
    ids = []
    for seed in (130, 131, 132):
        data = unique_rows(seed)
        ids.append(api.create_dataset(data[:, :2], data[:, 2])["id"])

    listing = api.get("/v1/datasets?limit=1000")
    assert listing.status == 200, listing
    page = listing.json()
    assert set(page) == {"items", "next_cursor"}
    listed = [item["id"] for item in page["items"]]
    assert [i for i in listed if i in ids] == ids[::-1], "not newest first"

    # Pages of one follow each other through the cursor without repeating an item.
    seen = []
    cursor = None
    for _ in range(3):
        response = api.get("/v1/datasets?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status == 200, response
        page = response.json()
        assert len(page["items"]) == 1
        seen.append(page["items"][0]["id"])
        cursor = page["next_cursor"]
        assert isinstance(cursor, str) and cursor
    assert seen == listed[:3]

    assert api.request("DELETE", f"/v1/datasets/{ids[0]}").status == 204
    assert_problem(api.get(f"/v1/datasets/{ids[0]}"), 404)
    assert_problem(api.request("DELETE", f"/v1/datasets/{ids[0]}"), 404)
    assert ids[0] not in [item["id"] for item in api.get("/v1/datasets?limit=1000").json()["items"]]


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=abc", "limit=-1", "cursor=not-a-cursor"])
def test_a_bad_limit_or_cursor_is_400(api: Api, query):
    assert_problem(api.get(f"/v1/datasets?{query}"), 400)


@pytest.mark.parametrize("dataset_id", ["ds_doesnotexist", "nope", "ds_", "job_123"])
def test_unknown_or_malformed_dataset_ids_are_404(api: Api, dataset_id):
    assert_problem(api.get(f"/v1/datasets/{dataset_id}"), 404)
    assert_problem(api.request("DELETE", f"/v1/datasets/{dataset_id}"), 404)


def test_a_dataset_used_by_a_queued_or_running_job_cannot_be_deleted(start_server):
    _, api = start_server("--workers", "1")
    rng = np.random.default_rng(140)
    x = rng.normal(size=(2000, 3))
    running_on = api.create_dataset(x, x.sum(axis=1) + rng.normal(size=2000))
    queued_on = api.create_dataset(x[:500], x[:500, 0])
    running = api.submit_ok(long_spec(running_on["id"]))
    api.wait_until_running(running["id"])
    queued = api.submit_ok(long_spec(queued_on["id"]))
    assert api.job(queued["id"])["status"] == "queued"

    assert_problem(api.request("DELETE", f"/v1/datasets/{running_on['id']}"), 409)
    assert_problem(api.request("DELETE", f"/v1/datasets/{queued_on['id']}"), 409)

    for job in (queued, running):
        assert api.request("POST", f"/v1/jobs/{job['id']}/cancel").status == 202
        assert api.wait_for(job["id"], timeout=10)["status"] == "cancelled"
    assert api.request("DELETE", f"/v1/datasets/{running_on['id']}").status == 204
    assert api.request("DELETE", f"/v1/datasets/{queued_on['id']}").status == 204


# --------------------------------------------------------------------------------------------- ingest errors
def test_json_ragged_rows_are_400_naming_the_row(api: Api):
    problem = assert_problem(api.post_json("/v1/datasets", {"features": [[1, 2], [3, 4], [5]], "targets": [1, 2, 3]}),
                             400)
    pointers = [e["pointer"] for e in problem["errors"]]
    assert any(p == "/features/2" or p.startswith("/features/2/") for p in pointers), pointers


def test_json_non_finite_numbers_are_400_naming_the_cell(api: Api):
    # JSON has no NaN; a number too large for a double is the JSON way to send an infinity.
    assert_problem(api.upload(b'{"features": [[1, 2], [3, 1e999]], "targets": [1, 2]}', "application/json"), 400,
                   "/features/1/1")
    assert_problem(api.upload(b'{"features": [[1, 2], [3, 4]], "targets": [1, -1e400]}', "application/json"), 400,
                   "/targets/1")
    # A bare NaN token is not JSON at all.
    assert_problem(api.upload(b'{"features": [[1, NaN]], "targets": [1]}', "application/json"), 400)


@pytest.mark.parametrize("document, pointer", [
    ({"features": [[1, 2], [3, 4]], "targets": [1]}, "/targets"),
    ({"features": [[1, 2], [3, 4]], "targets": [1, 2], "sample_weights": [1, -1]}, "/sample_weights/1"),
    ({"features": [[1, 2], [3, 4]], "targets": [1, 2], "sample_weights": [1]}, "/sample_weights"),
    ({"features": [[1, 2], [3, 4]], "targets": [1, 2], "feature_names": ["a"]}, "/feature_names"),
    ({"features": [[1, 2], [3, 4]], "targets": [1, 2], "colour": "red"}, "/colour"),
    ({"features": [[1, "2"], [3, 4]], "targets": [1, 2]}, "/features/0/1"),
    ({"features": [[1, 2], [3, 4]], "targets": [1, True]}, "/targets/1"),
    ({"features": [[1, 2], [3, 4]], "targets": [1, 2], "name": 5}, "/name"),
    ({"targets": [1, 2]}, "/features"),
    ({"features": [[1, 2], [3, 4]]}, "/targets"),
])
def test_json_dataset_field_errors_name_the_field(api: Api, document, pointer):
    assert_problem(api.post_json("/v1/datasets", document), 400, pointer)


@pytest.mark.parametrize("body", [b"", b"{}", b'{"features": [], "targets": []}'])
def test_empty_json_data_is_400(api: Api, body):
    assert_problem(api.upload(body, "application/json"), 400)


@pytest.mark.parametrize("body", [b"{", b'{"features": [[1]], "targets": [1]', b"[1, 2]", b'{"features": [[1]],}',
                                  b"\xff\xfe"])
def test_malformed_json_is_400(api: Api, body):
    assert_problem(api.upload(body, "application/json"), 400)


def test_csv_errors_give_the_line(api: Api):
    body = b"a,b,y\n1,2,3\n4,5,6\n7,8\n"
    problem = assert_problem(api.upload(body, "text/csv"), 400)
    assert any(e.get("line") == 4 for e in problem.get("errors", [])), problem
    assert "line 4" in problem["detail"], problem
    problem = assert_problem(api.upload(b"a,b,y\n1,2,3\n4,nan,6\n", "text/csv"), 400)
    assert "line 3" in problem["detail"], problem
    problem = assert_problem(api.upload(b"a,b,y\n1,2,3\n4,zebra,6\n", "text/csv"), 400)
    assert "line 3" in problem["detail"], problem


def test_csv_without_the_named_target_column_is_400_naming_it(api: Api):
    problem = assert_problem(api.upload(b"a,b,y\n1,2,3\n", "text/csv", "?target=nope"), 400)
    assert "nope" in json.dumps(problem), problem
    problem = assert_problem(api.upload(b"a,b,y\n1,2,3\n", "text/csv", "?weight=nope"), 400)
    assert "nope" in json.dumps(problem), problem


@pytest.mark.parametrize("body", [b"", b"a,b,y\n", b"a,b,y\r\n"])
def test_csv_without_rows_is_400(api: Api, body):
    assert_problem(api.upload(body, "text/csv"), 400)


@pytest.mark.parametrize("content_type, query, name", [
    ("application/json", "?target=y", "target"),
    ("application/json", "?name=x", "name"),
    ("text/csv", "?target_index=0", "target_index"),
    ("application/x-npy", "?target=y", "target"),
    ("text/csv", "?colour=red", "colour"),
])
def test_a_query_parameter_that_does_not_apply_is_400_naming_it(api: Api, content_type, query, name):
    bodies = {"application/json": b'{"features": [[1, 2]], "targets": [1]}', "text/csv": b"a,y\n1,2\n",
              "application/x-npy": npy_bytes(np.ones((2, 2)))}
    problem = assert_problem(api.upload(bodies[content_type], content_type, query), 400)
    assert name in json.dumps(problem), problem


def test_npy_with_nan_is_400(api: Api):
    data = np.ones((3, 3))
    data[1, 1] = np.nan
    assert_problem(api.upload(npy_bytes(data), "application/x-npy"), 400)


@pytest.mark.parametrize("make", [
    lambda: b"not an npy file at all",
    lambda: npy_bytes(np.ones((3, 3)))[:20],                       # header cut short
    lambda: npy_bytes(np.ones((3, 3), dtype=np.int64)),           # not a float
    lambda: npy_bytes(np.ones(6)),                                # 1-D
    lambda: npy_bytes(np.ones((2, 3, 2))),                        # 3-D
    lambda: npy_bytes(np.ones((3, 3)))[:-8],                      # data shorter than the shape says
    lambda: npy_bytes(np.ones((3, 3))).replace(b"'descr'", b"'dtype'"),  # header without descr
])
def test_bad_npy_is_400(api: Api, make):
    assert_problem(api.upload(make(), "application/x-npy"), 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x",
                                          "application/octet-stream"])
def test_an_unsupported_content_type_is_415(api: Api, content_type):
    assert_problem(api.upload(b'{"features": [[1]], "targets": [1]}', content_type), 415)
