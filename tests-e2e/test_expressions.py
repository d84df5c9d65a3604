"""Formula losses (`"loss": {"expression": …}`) and `POST /v1/gradcheck`, through the real binary with curl.

A formula equal to a built-in loss must fit the same weights; formulas that do not parse are 400s at
`/loss/expression` with the column; one that turns NaN at run time fails the job naming the row. The
gradient check must agree with finite differences for built-in losses, formulas, softmax, standardized
features and objectives, draw its random point from the seed, and store nothing.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from helpers import Api, assert_problem, linear_data, logistic_data

LINEAR_FORMULA = "(p - y)^2 / 2"
LOGISTIC_FORMULA = "log(1 + exp(-y*p))"


def fit(api: Api, spec: dict) -> dict:
    """Submits a job and waits for it to end; returns the job resource."""
    return api.wait_for(api.submit_ok(spec)["id"])


def gradcheck(api: Api, body: dict) -> dict:
    response = api.post_json("/v1/gradcheck", body)
    assert response.status == 200, response
    assert response.content_type == "application/json", response
    answer = response.json()
    assert set(answer) == {"point", "value", "analytic", "numeric", "max_relative_error"}, answer
    assert len(answer["analytic"]) == len(answer["numeric"]) == len(answer["point"]), answer
    return answer


def parameters(job: dict) -> np.ndarray:
    result = job["result"]
    return np.array(list(np.ravel(result["weights"])) + list(np.ravel(result["intercept"])), dtype=float)


@pytest.fixture(scope="module")
def logistic01(server) -> dict:
    x, y = logistic_data(200, seed=5)
    return Api(server).create_dataset(x, y, name="logistic01")


# --------------------------------------------------------------------------------------------- formula losses
def test_a_squared_formula_fits_the_same_weights_as_squared(api: Api, linear_dataset):
    common = {"dataset_id": linear_dataset["id"], "optimizer": {"method": "gd", "learning_rate": 0.1},
              "stopping": {"max_iterations": 200}}
    builtin = fit(api, {**common, "loss": "squared"})
    formula = fit(api, {**common, "loss": {"expression": LINEAR_FORMULA}})
    assert builtin["status"] == formula["status"] == "succeeded", (builtin["error"], formula["error"])
    assert formula["result"]["iterations"] == builtin["result"]["iterations"]
    # The same per-row derivative p − y, exactly: the same weights bit for bit.
    assert formula["result"]["weights"] == builtin["result"]["weights"]
    assert formula["result"]["intercept"] == builtin["result"]["intercept"]
    assert formula["result"]["loss"] == pytest.approx(builtin["result"]["loss"], rel=1e-12)


def test_a_log_formula_on_01_labels_fits_the_same_weights_as_log(api: Api, logistic01):
    common = {"dataset_id": logistic01["id"], "model": "logistic", "regularization": {"l2": 0.01},
              "optimizer": {"method": "gd", "learning_rate": 0.5}, "stopping": {"max_iterations": 300}}
    builtin = fit(api, {**common, "loss": "log"})
    formula = fit(api, {**common, "loss": {"expression": LOGISTIC_FORMULA}})
    assert builtin["status"] == formula["status"] == "succeeded", (builtin["error"], formula["error"])
    # y is ±1 inside the formula although the labels are 0/1; the two compute ℓ' in different ways.
    np.testing.assert_allclose(parameters(formula), parameters(builtin), rtol=1e-12, atol=0)
    assert formula["result"]["loss"] == pytest.approx(builtin["result"]["loss"], rel=1e-12)


def test_the_spec_echo_carries_the_formula_object(api: Api, linear_dataset):
    job = api.submit_ok({"dataset_id": linear_dataset["id"], "loss": {"expression": LINEAR_FORMULA},
                         "stopping": {"max_iterations": 5}})
    assert job["spec"]["loss"] == {"expression": LINEAR_FORMULA}
    assert job["spec"]["loss_params"] == {}
    assert api.wait_for(job["id"])["spec"]["loss"] == {"expression": LINEAR_FORMULA}


# (formula, the column the detail starts with, words the detail must contain)
PARSE_ERRORS = [
    ("(p - y)^", 9, ["expected"]),                              # a trailing operator
    ("p * (y - 1", 11, ['")"']),                                # an unclosed parenthesis
    ("p y", 3, ['"y"']),                                        # two operands in a row
    ("p $ y", 3, ['"$"']),                                      # a character of no token
    ("(p - q)^2", 6, ['"q"', '"p"', '"y"']),                    # an unknown variable, naming p and y
    ("huber(p - y)", 1, ['"huber"', "exp", "softplus"]),        # an unknown function, listing the known ones
    ("pow(p - y)", 1, ["pow", "2 argument"]),                   # the wrong number of arguments
    ("where(p < y, p)", 1, ["where", "3 argument"]),
    ("1e400 * (p - y)^2", 1, ["1e400"]),                        # a number out of range
    ("", 1, ["expected"]),                                      # nothing at all
]


@pytest.mark.parametrize("formula, column, words", PARSE_ERRORS, ids=[case[0] or "empty" for case in PARSE_ERRORS])
def test_a_formula_that_does_not_parse_is_400_at_loss_expression(api: Api, linear_dataset, formula, column, words):
    response = api.post_json("/v1/jobs", {"dataset_id": linear_dataset["id"], "loss": {"expression": formula}})
    problem = assert_problem(response, 400, "/loss/expression")
    detail = next(e["detail"] for e in problem["errors"] if e["pointer"] == "/loss/expression")
    assert detail.startswith(f"column {column}: "), detail
    for word in words:
        assert word in detail, detail


def test_the_parse_error_counts_columns_in_characters(api: Api, linear_dataset):
    # "√" is one character (three UTF-8 bytes): the column is where a user sees the error.
    response = api.post_json("/v1/jobs", {"dataset_id": linear_dataset["id"], "loss": {"expression": "p + √y"}})
    problem = assert_problem(response, 400, "/loss/expression")
    assert problem["errors"][0]["detail"].startswith("column 5: "), problem


def test_a_formula_longer_than_2000_characters_is_400(api: Api, linear_dataset):
    formula = "+".join(["p"] * 1001)  # 2001 characters
    assert_problem(api.post_json("/v1/jobs", {"dataset_id": linear_dataset["id"], "loss": {"expression": formula}}),
                   400, "/loss/expression")


@pytest.mark.parametrize("model", ["softmax", "poisson"])
def test_a_formula_on_softmax_or_poisson_is_400_at_loss(api: Api, labels01, model):
    response = api.post_json("/v1/jobs", {"dataset_id": labels01["id"], "model": model,
                                          "loss": {"expression": LINEAR_FORMULA}})
    problem = assert_problem(response, 400, "/loss")
    assert model in problem["errors"][0]["detail"], problem


@pytest.mark.parametrize("loss_params", [{"delta": 1.0}, {"tau": 0.5}])
def test_loss_params_with_a_formula_is_400(api: Api, linear_dataset, loss_params):
    spec = {"dataset_id": linear_dataset["id"], "loss": {"expression": LINEAR_FORMULA}, "loss_params": loss_params}
    assert_problem(api.post_json("/v1/jobs", spec), 400, f"/loss_params/{next(iter(loss_params))}")


@pytest.mark.parametrize("loss, pointer", [({"expression": 5}, "/loss/expression"), ({}, "/loss/expression"),
                                           ({"expression": "p", "params": 1}, "/loss/params")])
def test_a_malformed_loss_object_is_400(api: Api, linear_dataset, loss, pointer):
    assert_problem(api.post_json("/v1/jobs", {"dataset_id": linear_dataset["id"], "loss": loss}), 400, pointer)


def test_a_formula_that_turns_nan_fails_the_job_naming_the_row(api: Api, linear_dataset):
    # From zero weights p = 0, and log(p − y) is NaN on the first row whose target is positive.
    job = fit(api, {"dataset_id": linear_dataset["id"], "loss": {"expression": "log(p - y)"},
                    "stopping": {"max_iterations": 10}})
    assert job["status"] == "failed", job
    assert job["result"]["stop_reason"] == "diverged", job["result"]
    detail = job["error"]["detail"]
    # The first row where log(0 − y) is not finite: the first target ≥ 0 (row 1 of linear_data(200, seed=1)).
    _, y = linear_data(200, seed=1)
    row = int(np.argmax(y >= 0))
    match = re.search(r"NaN .*\brow (\d+), where p = ([-0-9.e]+) and y = ([-0-9.e]+)", detail)
    assert match, detail
    assert int(match.group(1)) == row, detail
    assert float(match.group(2)) == 0.0, detail
    assert float(match.group(3)) == pytest.approx(y[row], rel=1e-12), detail
    assert job["result"]["weights"] == [0, 0], job["result"]  # the last finite weights: the start


# --------------------------------------------------------------------------------------------- the gradient check
@pytest.mark.parametrize("regularization", [{"l2": 0.3}, {"l1": 0.2}, {"l2": 0.1, "l1": 0.05}])
def test_gradcheck_of_a_builtin_loss_agrees_with_finite_differences(api: Api, linear_dataset, regularization):
    answer = gradcheck(api, {"dataset_id": linear_dataset["id"], "regularization": regularization,
                             "point": [0.7, -1.3, 0.4]})
    assert answer["point"] == [0.7, -1.3, 0.4]
    assert answer["max_relative_error"] < 1e-6, answer
    np.testing.assert_allclose(answer["analytic"], answer["numeric"], rtol=1e-6)


def test_gradcheck_value_is_l_with_its_penalty(api: Api):
    # One feature, rows (x, y) = (1, 1), (2, 3); at w = 2, b = 0.5: residuals 1.5, 1.5.
    body = {"dataset": {"features": [[1.0], [2.0]], "targets": [1.0, 3.0]}, "regularization": {"l2": 0.5, "l1": 0.25},
            "point": [2.0, 0.5]}
    answer = gradcheck(api, body)
    assert answer["value"] == pytest.approx(0.5 * 1.5**2 + 0.25 * 2.0**2 + 0.25 * 2.0, rel=1e-12)
    # ∂L/∂w = mean(r·x) + l2·w + l1·sign(w) = 2.25 + 1 + 0.25; ∂L/∂b = mean(r) = 1.5.
    assert answer["analytic"] == pytest.approx([3.5, 1.5], rel=1e-12)


def test_gradcheck_of_a_formula_loss_matches_the_builtin(api: Api, logistic01):
    point = [0.8, -0.5, 0.3]
    common = {"dataset_id": logistic01["id"], "model": "logistic", "regularization": {"l2": 0.1}, "point": point}
    formula = gradcheck(api, {**common, "loss": {"expression": LOGISTIC_FORMULA}})
    builtin = gradcheck(api, {**common, "loss": "log"})
    assert formula["max_relative_error"] < 1e-6, formula
    np.testing.assert_allclose(formula["analytic"], builtin["analytic"], rtol=1e-12)
    assert formula["value"] == pytest.approx(builtin["value"], rel=1e-12)


def test_gradcheck_of_a_formula_on_inline_data(api: Api):
    x, y = logistic_data(50, seed=9)
    body = {"dataset": {"features": x.tolist(), "targets": y.tolist()}, "model": "logistic",
            "loss": {"expression": "softplus(-y*p) + 0.1*p^2"}, "point": [0.3, 0.9, -0.2]}
    assert gradcheck(api, body)["max_relative_error"] < 1e-6


def test_gradcheck_of_softmax(api: Api):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(60, 3))
    y = np.argmax(x @ rng.normal(size=(3, 4)), axis=1).astype(float)
    point = rng.normal(size=4 * 3 + 4).tolist()  # K·d weights row by row, then K intercepts
    answer = gradcheck(api, {"dataset": {"features": x.tolist(), "targets": y.tolist()}, "model": "softmax",
                             "regularization": {"l2": 0.05}, "point": point})
    assert len(answer["analytic"]) == 16
    assert answer["max_relative_error"] < 1e-6, answer


def test_gradcheck_with_standardize(api: Api):
    rng = np.random.default_rng(12)
    x = rng.normal(loc=[100.0, -3.0], scale=[20.0, 0.01], size=(80, 2))
    y = 0.05 * (x[:, 0] - 100) + 100 * (x[:, 1] + 3) + rng.normal(size=80)  # targets near 0: L stays small
    answer = gradcheck(api, {"dataset": {"features": x.tolist(), "targets": y.tolist()}, "standardize": True,
                             "regularization": {"l2": 0.1}, "point": [1.0, 2.0, 3.0]})
    assert answer["max_relative_error"] < 1e-6, answer
    # In standardized units each feature has mean 0 and variance 1, so ∂L/∂w_j = mean(r·z_j) + l2·w_j and
    # ∂L/∂b = mean(r), with r = z·w + b − y.
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    r = z @ np.array([1.0, 2.0]) + 3.0 - y
    expected = list(z.T @ r / len(y) + 0.1 * np.array([1.0, 2.0])) + [r.mean()]
    np.testing.assert_allclose(answer["analytic"], expected, rtol=1e-9)


def test_gradcheck_of_the_rosenbrock_objective(api: Api):
    body = {"objective": {"expression": "(1-x)^2 + 100*(y-x^2)^2", "variables": ["x", "y"]}, "point": [-1.2, 1]}
    answer = gradcheck(api, body)
    assert answer["point"] == [-1.2, 1]
    assert answer["value"] == pytest.approx(24.2, rel=1e-12)
    assert answer["analytic"] == pytest.approx([-215.6, -88.0], rel=1e-12)
    assert answer["max_relative_error"] < 1e-6, answer


def test_a_random_point_is_reproducible_by_seed(api: Api, linear_dataset):
    objective = {"expression": "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", "variables": ["x", "y"],
                 "bounds": [[-5, 5], [0, 1]]}
    first = gradcheck(api, {"objective": objective, "seed": 42})
    assert first == gradcheck(api, {"objective": objective, "seed": 42})
    other = gradcheck(api, {"objective": objective, "seed": 43})
    assert other["point"] != first["point"]
    for point in (first["point"], other["point"]):
        assert -5 <= point[0] <= 5 and 0 <= point[1] <= 1, point
    # A job spec too: the same seed, the same θ.
    spec = {"dataset_id": linear_dataset["id"], "seed": 7}
    assert gradcheck(api, spec)["point"] == gradcheck(api, spec)["point"]
    assert gradcheck(api, spec)["point"] != gradcheck(api, {**spec, "seed": 8})["point"]


@pytest.mark.parametrize("point", [[1.0, 2.0], [1.0, 2.0, 3.0, 4.0], "1,2,3", {"w": 1}])
def test_a_point_of_the_wrong_length_or_type_is_400_at_point(api: Api, linear_dataset, point):
    problem = assert_problem(api.post_json("/v1/gradcheck", {"dataset_id": linear_dataset["id"], "point": point}),
                             400, "/point")
    assert "3" in problem["errors"][0]["detail"], problem  # it says how many numbers it needs


def test_a_point_with_a_non_number_is_400_at_its_index(api: Api):
    body = {"objective": {"expression": "x*y", "variables": ["x", "y"]}, "point": [1, "two"]}
    assert_problem(api.post_json("/v1/gradcheck", body), 400, "/point/1")


def test_gradcheck_on_an_unknown_dataset_is_400(api: Api):
    assert_problem(api.post_json("/v1/gradcheck", {"dataset_id": "ds_0000000000000000000a"}), 400, "/dataset_id")


@pytest.mark.parametrize("body, pointer", [
    ({"objective": {"expression": "(1-x)^", "variables": ["x"]}}, "/objective/expression"),
    ({"objective": {"expression": "x + z", "variables": ["x"]}}, "/objective/expression"),
    ({"objective": {"expression": "x", "variables": ["pi"]}}, "/objective/variables/0"),
    ({"objective": {"expression": "x", "variables": []}}, "/objective/variables"),
    ({"objective": {"expression": "x", "variables": ["x"], "bounds": [[1, 0]]}}, "/objective/bounds/0"),
    ({"objective": {"expression": "x", "variables": ["x"]}, "seed": -1}, "/seed"),
    ({"dataset": {"features": [[1.0], [2.0]], "targets": [0, 1]}, "model": "softmax",
      "loss": {"expression": "p"}}, "/loss"),
    ({"dataset": {"features": [[1.0], [2.0]], "targets": [0, 1]}, "loss": {"expression": "p -"}},
     "/loss/expression"),
    ({"dataset": {"features": [[1.0], [2.0]], "targets": [0, 1]}, "optimizer": {"learning_rate": -1}},
     "/optimizer/learning_rate"),
    ({"model": "linear"}, "/dataset_id"),
])
def test_an_invalid_check_is_400_with_its_pointer(api: Api, body, pointer):
    problem = assert_problem(api.post_json("/v1/gradcheck", body), 400, pointer)
    if pointer.endswith("/expression"):
        assert problem["errors"][0]["detail"].startswith("column "), problem


def test_an_inline_dataset_is_not_stored(api: Api):
    before = api.get("/v1/datasets?limit=1000").json()["items"]
    rng = np.random.default_rng(13)
    x = rng.normal(size=(25, 2))  # data no other test uploads
    body = {"dataset": {"name": "gradcheck-only", "features": x.tolist(), "targets": (x @ [1.0, 2.0]).tolist()},
            "point": [0.1, 0.2, 0.3]}
    assert gradcheck(api, body)["max_relative_error"] < 1e-6
    after = api.get("/v1/datasets?limit=1000").json()["items"]
    assert [d["id"] for d in after] == [d["id"] for d in before]
    assert all(d["name"] != "gradcheck-only" for d in after)


def test_gradcheck_refuses_text_plain_with_415(api: Api):
    response = api.request("POST", "/v1/gradcheck", body=b'{"objective": {"expression": "x", "variables": ["x"]}}',
                           headers={"Content-Type": "text/plain"})
    assert_problem(response, 415)


def test_gradcheck_is_post_only(api: Api):
    response = api.get("/v1/gradcheck")
    assert_problem(response, 405)
    assert "POST" in (response.header("Allow") or ""), response
