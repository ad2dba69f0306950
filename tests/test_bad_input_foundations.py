"""Bad input to the foundations: papers_lib.core, data, claims, run and checks."""
import math
import os

import torch

from papers_lib import checks, claims, core, data, run
from tests.bad_input import Case, check, parametrize

NAN = math.nan
SRC = "paper: Table 1"


def _with_env(value, fn):
    """Call `fn()` with $PAPERS_SEED_OFFSET set to `value`, restoring it after."""
    old = os.environ.get(claims.SEED_OFFSET_ENV)
    os.environ[claims.SEED_OFFSET_ENV] = value
    try:
        return fn()
    finally:
        if old is None:
            os.environ.pop(claims.SEED_OFFSET_ENV)
        else:
            os.environ[claims.SEED_OFFSET_ENV] = old


def _opt():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)


def _claim(**kw):
    args = dict(id="x.one", statement="s", values=[1.0, 2.0, 3.0], op=">",
                threshold=0.0, source=SRC)
    return claims.Claim(**{**args, **kw})


C = "papers_lib.checks."
K = "papers_lib.core."
D = "papers_lib.data."
L = "papers_lib.claims."
R = "papers_lib.run."

CASES = [
    # checks: the vocabulary itself
    Case(C + "check_real", lambda: checks.check_real("1", "x"), TypeError,
         r"x must be a real number, got '1'"),
    Case(C + "check_real", lambda: checks.check_real(NAN, "x"), ValueError,
         r"x must be a real number, got nan"),
    Case(C + "check_real", lambda: checks.check_real(2.0, "x", 0, 1), ValueError,
         r"x must be a real number >= 0, <= 1, got 2.0"),
    Case(C + "check_positive", lambda: checks.check_positive(0, "lr"), ValueError,
         r"lr must be a real number > 0, got 0"),
    Case(C + "check_nonnegative", lambda: checks.check_nonnegative(-1e-3, "eps"),
         ValueError, r"eps must be a real number >= 0, got -0.001"),
    Case(C + "check_open01", lambda: checks.check_open01(1.0, "p"), ValueError,
         r"p must be a real number > 0, < 1, got 1.0"),
    Case(C + "check_int", lambda: checks.check_int(1.5, "n"), TypeError,
         r"n must be an int, got 1.5"),
    Case(C + "check_int", lambda: checks.check_int(0, "n"), ValueError,
         r"n must be an int >= 1, got 0"),
    Case(C + "check_int", lambda: checks.check_int(math.inf, "n"), TypeError,
         r"n must be an int, got inf"),
    Case(C + "check_choice", lambda: checks.check_choice("c", "mode", "ab"), ValueError,
         r"mode must be one of 'a', 'b', got 'c'"),
    Case(C + "check_tensor", lambda: checks.check_tensor([1.0], "x"), TypeError,
         r"x must be a torch.Tensor, got list"),
    Case(C + "check_tensor", lambda: checks.check_tensor(torch.zeros(2), "x", ndim=2),
         ValueError, r"x must have 2 dimensions, got shape \(2,\)"),
    Case(C + "check_tensor",
         lambda: checks.check_tensor(torch.zeros(2, dtype=torch.long), "x",
             floating=True),
         TypeError, r"x must be a floating-point tensor, got torch.int64"),
    Case(C + "check_finite", lambda: checks.check_finite(torch.tensor([0.0, NAN]), "x0"),
         ValueError, r"^x0 must be finite, got nan among its entries$"),
    Case(C + "check_finite", lambda: checks.check_finite(1.0, "x0"), TypeError,
         r"^x0 must be a torch\.Tensor, got float$"),
    Case(C + "check_dtype",
         lambda: checks.check_dtype(torch.zeros(2, dtype=torch.float64), "x",
                                    torch.nn.Linear(2, 1)),
         TypeError, r"^x must have the network's dtype torch\.float32, got torch\.float64$"),
    Case(C + "check_dtype", lambda: checks.check_dtype(torch.zeros(2), "x", torch.int64),
         TypeError, r"^x must have torch\.int64, got torch\.float32$"),
    Case(C + "check_dtype", lambda: checks.check_dtype([0.0], "x", torch.float32),
         TypeError, r"^x must be a torch\.Tensor, got list$"),
    Case(C + "check_same_batch",
         lambda: checks.check_same_batch(a=torch.zeros(2), b=torch.zeros(3)),
             ValueError, r"a and b must have the same leading size, got a: 2, b: 3"),
    Case(C + "check_same_batch", lambda: checks.check_same_batch(a=torch.tensor(1.0)),
         ValueError, r"a must have at least 1 dimensions"),

    # core
    Case(K + "set_seed", lambda: core.set_seed(-1), ValueError,
         r"seed must be an int >= 0, got -1"),
    Case(K + "set_seed", lambda: core.set_seed(0.5), TypeError,
         r"seed must be an int, got 0.5"),
    Case(K + "progress", lambda: core.progress(5), TypeError,
         r"iterable must be iterable, got int"),
    Case(K + "progress", lambda: core.progress([], total=-1), ValueError,
         r"total must be an int >= 0, got -1"),
    Case(K + "train", lambda: core.train(5, _opt(), 1), TypeError,
         r"loss_fn must be a callable .*, got int"),
    Case(K + "train", lambda: core.train(lambda: torch.tensor(0.0), "sgd", 1),
         TypeError, r"optimizer must be a torch.optim.Optimizer"),
    Case(K + "train", lambda: core.train(lambda: torch.tensor(0.0), _opt(), -1),
         ValueError, r"steps must be an int >= 0, got -1"),
    Case(K + "train", lambda: core.train(lambda: torch.tensor(0.0), _opt(), 1,
         clip_norm=0),
         ValueError, r"clip_norm must be a real number > 0, got 0"),
    Case(K + "train", lambda: core.train(lambda: torch.tensor(0.0), _opt(), 1,
         scheduler=5),
         TypeError, r"scheduler must have a step\(\) method, got int"),
    Case(K + "train", lambda: core.train(lambda: torch.zeros(2), _opt(), 1), ValueError,
         r"loss_fn must return a scalar tensor, got shape \(2,\)"),
    Case(K + "train", lambda: core.train(lambda: 0.5, _opt(), 1), ValueError,
         r"loss_fn must return a scalar tensor, got float"),
    Case(K + "mlp", lambda: core.mlp(0, 1), ValueError,
         r"d_in must be an int >= 1, got 0"),
    Case(K + "mlp", lambda: core.mlp(2, 1, depth=-1), ValueError,
         r"depth must be an int >= 0, got -1"),
    Case(K + "mlp", lambda: core.mlp(2, 1, hidden=2.5), TypeError,
         r"hidden must be an int, got 2.5"),
    Case(K + "mlp", lambda: core.mlp(2, 1, act="relu"), TypeError,
         r"act must be a callable returning a module, got 'relu'"),
    Case(K + "lazy_exports", lambda: core.lazy_exports("no_such_pkg", {}), ValueError,
         r"package must be the name of an imported package, got 'no_such_pkg'"),
    Case(K + "lazy_exports", lambda: core.lazy_exports("papers_lib", [("a", ["x"])]),
         TypeError, r"table must map submodules to names, got list"),
    Case(K + "lazy_exports", lambda: core.lazy_exports("papers_lib", {"a": "x"}),
         TypeError, r"table\['a'\] must be a list of names, got the string 'x'"),
    Case(K + "lazy_exports",
         lambda: core.lazy_exports("papers_lib", {"a": ["x"], "b": ["x"]}), ValueError,
         r"'x' is exported by both 'a' and 'b'"),
    Case(K + "figure", lambda: core.figure(0), ValueError,
         r"ncols must be an int >= 1, got 0"),
    Case(K + "figure", lambda: core.figure(nrows=1.5), TypeError,
         r"nrows must be an int, got 1.5"),
    Case(K + "figure", lambda: core.figure(size=NAN), ValueError,
         r"size must be a real number > 0, got nan"),
    Case(K + "scatter2d", lambda: core.scatter2d(None, torch.zeros(3, 3)), ValueError,
         r"x must have shape \(n, 2\), got \(3, 3\)"),
    Case(K + "scatter2d", lambda: core.scatter2d(None, torch.zeros(3, 2), lim=0),
         ValueError, r"lim must be a real number > 0, got 0"),

    # data
    Case(D + "eight_gaussians", lambda: data.eight_gaussians(0), ValueError,
         r"n must be an int >= 1, got 0"),
    Case(D + "eight_gaussians", lambda: data.eight_gaussians(4, seed=-1), ValueError,
         r"seed must be an int >= 0, got -1"),
    Case(D + "eight_gaussians", lambda: data.eight_gaussians(4, radius=NAN), ValueError,
         r"radius must be a real number >= 0, got nan"),
    Case(D + "eight_gaussians", lambda: data.eight_gaussians(4, std=-0.1), ValueError,
         r"std must be a real number >= 0, got -0.1"),
    Case(D + "two_moons", lambda: data.two_moons(2.5), TypeError,
         r"n must be an int, got 2.5"),
    Case(D + "two_moons", lambda: data.two_moons(4, noise=-1), ValueError,
         r"noise must be a real number >= 0, got -1"),
    Case(D + "two_moons", lambda: data.two_moons(4, seed=1.5), TypeError,
         r"seed must be an int, got 1.5"),
    Case(D + "spirals", lambda: data.spirals(-3), ValueError,
         r"n must be an int >= 1, got -3"),
    Case(D + "spirals", lambda: data.spirals(4, noise=math.inf), ValueError,
         r"noise must be a finite real number >= 0, got inf"),
    Case(D + "circles", lambda: data.circles(0), ValueError,
         r"n must be an int >= 1, got 0"),
    Case(D + "circles", lambda: data.circles(4, noise=NAN), ValueError,
         r"noise must be a real number >= 0, got nan"),
    Case(D + "checkerboard", lambda: data.checkerboard(0), ValueError,
         r"n must be an int >= 1, got 0"),
    Case(D + "checkerboard", lambda: data.checkerboard(4, seed="0"), TypeError,
         r"seed must be an int, got '0'"),
    Case(D + "sample_2d", lambda: data.sample_2d("moons", 4), ValueError,
         r"name must be one of .*, got 'moons'"),
    Case(D + "sample_2d", lambda: data.sample_2d("spirals", 0), ValueError,
         r"n must be an int >= 1, got 0"),
    Case(D + "digits", lambda: data.digits(threshold=1.0), ValueError,
         r"threshold must be a real number > 0, < 1, got 1.0"),

    # claims
    Case(L + "seed_offset", lambda: _with_env("abc", claims.seed_offset), ValueError,
         r"PAPERS_SEED_OFFSET must be an int >= 0, got 'abc'"),
    Case(L + "seed_offset", lambda: _with_env("-3", claims.seed_offset), ValueError,
         r"PAPERS_SEED_OFFSET must be an int >= 0, got -3"),
    Case(L + "seed", lambda: claims.seed(-1), ValueError,
         r"seed number k must be an int >= 0, got -1"),
    Case(L + "seed", lambda: claims.seed(1.5), TypeError,
         r"seed number k must be an int"),
    Case(L + "seeds", lambda: claims.seeds(0), ValueError,
         r"n must be an int >= 1, got 0"),
    Case(L + "seeds", lambda: claims.seeds(3, start=-1), ValueError,
         r"start must be an int >= 0, got -1"),
    Case(L + "Claim", lambda: _claim(id="Bad Id"), ValueError,
         r"claim id must be a slug .*, got 'Bad Id'"),
    Case(L + "Claim", lambda: _claim(statement="a | b"), ValueError,
         r"statement must be one line of text without '\|', got 'a \| b'"),
    Case(L + "Claim", lambda: _claim(verdict="yes"), ValueError,
         r"verdict must be one of 'reproduced', 'partly', 'not reproduced', got 'yes'"),
    Case(L + "Claim", lambda: _claim(rule="any"), ValueError,
         r"rule must be one of 'all', 'majority', 'mean', got 'any'"),
    Case(L + "Claim", lambda: _claim(op="=="), ValueError,
         r"op must be one of '<', '<=', '>', '>=', got '=='"),
    Case(L + "Claim", lambda: _claim(threshold=NAN), ValueError,
         r"threshold must be a real number, got nan"),
    Case(L + "Claim", lambda: _claim(threshold="0.5"), TypeError,
         r"threshold must be a real number, got '0.5'"),
    Case(L + "Claim", lambda: _claim(threshold=None), ValueError,
         r"give op and threshold together"),
    Case(L + "Claim", lambda: _claim(op=None, threshold=None), ValueError,
         r"a 'reproduced' claim needs op and threshold"),
    Case(L + "Claim", lambda: _claim(values=[1.0, NAN, 2.0]), ValueError,
         r"values must be non-empty and not NaN"),
    Case(L + "Claim", lambda: _claim(values="123"), TypeError,
         r"values must be a number, a sequence of numbers or a tensor, got '123'"),
    Case(L + "Claim", lambda: _claim(values=[1.0, None, 2.0]), TypeError,
         r"values must be a number, a sequence of numbers or a tensor"),
    Case(L + "Claim", lambda: _claim(values=[1.0]), ValueError,
         r"a stochastic claim needs at least 3 seeds, got 1"),
    Case(L + "Claim", lambda: _claim(deterministic=True), ValueError,
         r"a deterministic claim takes one value, got 3"),
    Case(L + "Claim", lambda: _claim(source="Table 1"), ValueError,
         r"source must begin with 'paper:', 'theorem:' or 'effect size:'"),
    Case(L + "Claim", lambda: _claim(digits=0), ValueError,
         r"digits must be an int >= 1, got 0"),
    Case(L + "claim", lambda: claims.claim("x", "s", 1.0, op="~", threshold=0.0,
         source=SRC,
                                           deterministic=True), ValueError,
         r"op must be one of .*, got '~'"),
    Case(L + "claim", lambda: claims.claim("x", "s", 1.0, op=">", threshold=NAN,
                                           source=SRC, deterministic=True), ValueError,
         r"threshold must be a real number, got nan"),
    Case(L + "claim", lambda: claims.claim("x", "s", [1.0, 2.0, NAN], op=">",
         threshold=0,
                                           source=SRC), ValueError,
         r"values must be non-empty and not NaN"),
    Case(L + "claim", lambda: claims.claim("x", "s", [], verdict="not reproduced",
                                           source=SRC), ValueError,
         r"values must be non-empty"),
    Case(L + "claim", lambda: claims.claim("x", "s", 1.0, op=">", threshold=0.0,
                                           source=SRC, verdict="maybe",
                                           deterministic=True), ValueError,
         r"verdict must be one of .*, got 'maybe'"),
    Case(L + "not_tested", lambda: claims.not_tested("Bad Id", "s", "r"), ValueError,
         r"claim id must be a slug .*, got 'Bad Id'"),
    Case(L + "not_tested", lambda: claims.not_tested("x", "s", " "), ValueError,
         r"reason must be one non-empty line without '\|', got ' '"),
    Case(L + "not_tested", lambda: claims.not_tested("x", None, "r"), ValueError,
         r"statement must be one non-empty line without '\|', got None"),
    Case(L + "parse_line", lambda: claims.parse_line(5), TypeError,
         r"line must be a str, got int"),

    # run
    Case(R + "is_gpu_cell", lambda: run.is_gpu_cell("#| gpu"), TypeError,
         r"cell must be a notebook cell \(a dict\), got str"),
    Case(R + "kernel_env", lambda: run.kernel_env(seed_offset=-1), ValueError,
         r"seed_offset must be an int >= 0, got -1"),
    Case(R + "kernel_env", lambda: run.kernel_env(seed_offset="1"), TypeError,
         r"seed_offset must be an int, got '1'"),
    Case(R + "run_notebook", lambda: run.run_notebook("x.ipynb", seed_offset=-1),
         ValueError, r"seed_offset must be an int >= 0, got -1"),
    Case(R + "run_notebook", lambda: run.run_notebook("x.ipynb", timeout=0), ValueError,
         r"timeout must be an int >= 1, got 0"),
    Case(R + "run_notebook", lambda: run.run_notebook("no/such/notebook.ipynb"),
         FileNotFoundError, r"no notebook at no/such/notebook.ipynb"),
    Case(R + "source_sha256", lambda: run.source_sha256("#| gpu"), TypeError,
         r"cell must be a notebook cell \(a dict\), got str"),
    Case(R + "module_file", lambda: run.module_file("numpy.linalg"), ValueError,
         r"module must be the name of a papers_lib module, got 'numpy.linalg'"),
    Case(R + "library_hashes", lambda: run.library_hashes("papers_lib.run"), TypeError,
         r"modules must be an iterable of module names, got the string 'papers_lib.run'"),
    Case(R + "library_hashes", lambda: run.library_hashes(["torch"]), ValueError,
         r"module must be the name of a papers_lib module, got 'torch'"),
    Case(R + "gpu_output_status",
         lambda: run.gpu_output_status({"cell_type": "code", "source": "x = 1"}), ValueError,
         r"cell must be a GPU cell \(first line '#\| gpu'\), got a cell whose source "
         r"starts 'x = 1'"),
    Case(R + "gpu_output_status", lambda: run.gpu_output_status("#| gpu"), TypeError,
         r"cell must be a notebook cell \(a dict\), got str"),
    Case(R + "submit", lambda: run.submit("a.ipynb", None), TypeError,
         r"notebooks must be a list of paths, got the string 'a.ipynb'"),
    Case(R + "submit", lambda: run.submit(["a.ipynb"], object()), TypeError,
         r"executor must be a submitit executor \(with a submit method\), got object"),
    Case(R + "main", lambda: run.main("chapter.ipynb"), TypeError,
         r"argv must be a list of arguments, got the string 'chapter.ipynb'"),
]

EXEMPT = {
    "papers_lib.checks.is_real": "a predicate: every value is a valid question, "
                                 "the answer is True or False",
    "papers_lib.core.default_device": "takes no arguments",
    "papers_lib.core.quiet": "takes no arguments (reads $PAPERS_QUIET: any value is "
                             "valid)",
    "papers_lib.core.use_style": "takes no arguments",
    "papers_lib.claims.ClaimFailed": "an exception class: its argument is the message",
    "papers_lib.run.device_info": "takes no arguments",
}


@parametrize(CASES)
def test_bad_input(case):
    check(case)
