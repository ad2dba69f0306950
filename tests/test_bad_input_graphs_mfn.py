"""Bad-input sweep of `papers_lib.graphs.mfn` (chapter *Equivariant matrix function
networks*): each public name refuses an invalid argument with a message naming it."""
import torch

from papers_lib.graphs.mfn import (
    MFN, MPNN, LocalLayer, MatrixFunction, MatrixOperator, chain_graph,
    chain_green_diagonal, chain_hamiltonian, contour_poles, fermi_poles, local_dos,
    pole_expansion, resolvent)
from papers_lib.graphs.toolkit import batch_graphs
from tests.bad_input import Case, check, parametrize

M = "papers_lib.graphs.mfn."
H = torch.eye(3)
Z = torch.tensor([1j, 2j])
W = torch.tensor([1.0, 1.0])
G = chain_graph(torch.zeros(2, 4))
MIXED = batch_graphs([chain_graph(torch.zeros(1, 3)), chain_graph(torch.zeros(1, 5))])

CASES = [
    Case(M + "resolvent", lambda: resolvent(torch.ones(3, 4), 1j), ValueError,
         r"H must be square"),
    Case(M + "resolvent", lambda: resolvent(torch.eye(3, dtype=torch.long), 1j),
         TypeError, r"H must be a floating-point tensor"),
    Case(M + "resolvent", lambda: resolvent(H * float("nan"), 1j), ValueError,
         r"H must be finite"),
    Case(M + "resolvent", lambda: resolvent(H, "1j"), TypeError, r"z must be a number"),
    Case(M + "resolvent", lambda: resolvent(H, complex(float("inf"), 1)), ValueError,
         r"z must be finite"),
    Case(M + "resolvent", lambda: resolvent(H.expand(2, 3, 3), torch.ones(3) * 1j),
         ValueError, r"z must broadcast against the batch shape \(2,\)"),
    Case(M + "pole_expansion", lambda: pole_expansion(H, Z, W, method="lu"),
         ValueError, r"method must be one of 'solve', 'eigh'"),
    Case(M + "pole_expansion", lambda: pole_expansion(H, Z, W[:1]), ValueError,
         r"weights must have one entry per pole \(2\)"),
    Case(M + "pole_expansion", lambda: pole_expansion(H, Z * float("nan"), W),
         ValueError, r"poles must be finite"),
    Case(M + "pole_expansion",
         lambda: pole_expansion(H.to(torch.complex64), Z, W, method="eigh"),
         TypeError, r"H must be real for method 'eigh'"),
    Case(M + "contour_poles", lambda: contour_poles(1.0, 0.0, 1.0, 8), TypeError,
         r"f must be callable"),
    Case(M + "contour_poles", lambda: contour_poles(torch.exp, 0.0, 0.0, 8),
         ValueError, r"radius must be a real number > 0"),
    Case(M + "contour_poles", lambda: contour_poles(torch.exp, 0.0, 1.0, 0),
         ValueError, r"num must be an int >= 1"),
    Case(M + "fermi_poles", lambda: fermi_poles(0.0), ValueError, r"kT must be"),
    Case(M + "fermi_poles", lambda: fermi_poles(0.1, float("nan")), ValueError,
         r"mu must be"),
    Case(M + "fermi_poles", lambda: fermi_poles(0.1, 0.0, 2.5), TypeError,
         r"num must be an int"),
    Case(M + "MatrixOperator", lambda: MatrixOperator(0), ValueError,
         r"hidden must be an int >= 1"),
    Case(M + "MatrixOperator", lambda: MatrixOperator(3, hopping=float("inf")),
         ValueError, r"hopping must be"),
    Case(M + "MatrixOperator", lambda: MatrixOperator(3)(torch.zeros(8, 2), G.edge_index),
         ValueError, r"h must have 3 columns"),
    Case(M + "MatrixFunction", lambda: MatrixFunction(method="inv"), ValueError,
         r"method must be one of"),
    Case(M + "MatrixFunction", lambda: MatrixFunction(width=0.0), ValueError,
         r"width must be a real number > 0"),
    Case(M + "MatrixFunction", lambda: MatrixFunction(2)(torch.zeros(1, 1, 3, 3)),
         ValueError, r"H must have shape \(B, 2, n, n\)"),
    Case(M + "MFN", lambda: MFN(0, 1), ValueError, r"d_in must be an int >= 1"),
    Case(M + "MFN", lambda: MFN(2, 1)(G.x, G.edge_index, G.batch), ValueError,
         r"x must have 2 columns"),
    Case(M + "MFN",
         lambda: MFN(1, 1, method="eigh")(MIXED.x, MIXED.edge_index, MIXED.batch),
         ValueError, r"batch must hold graphs of one size"),
    Case(M + "LocalLayer", lambda: LocalLayer(0), ValueError,
         r"hidden must be an int >= 1"),
    Case(M + "LocalLayer", lambda: LocalLayer(4)(torch.zeros(8, 3), G.edge_index),
         ValueError, r"h must have 4 columns"),
    Case(M + "MPNN", lambda: MPNN(1, 1, layers=-1), ValueError,
         r"layers must be an int >= 0"),
    Case(M + "MPNN", lambda: MPNN(1, 1)(G.x.long(), G.edge_index), TypeError,
         r"x must be a floating-point tensor"),
    Case(M + "chain_hamiltonian", lambda: chain_hamiltonian(torch.arange(3)),
         TypeError, r"eps must be a floating-point tensor"),
    Case(M + "chain_hamiltonian", lambda: chain_hamiltonian(torch.zeros(3), "1"),
         TypeError, r"hopping must be a real number"),
    Case(M + "chain_green_diagonal",
         lambda: chain_green_diagonal(torch.zeros(3), 0.5), ValueError,
         r"z must be finite with a non-zero imaginary part"),
    Case(M + "chain_green_diagonal",
         lambda: chain_green_diagonal(torch.zeros(3), "0.5j"), TypeError,
         r"z must be a complex number"),
    Case(M + "chain_green_diagonal",
         lambda: chain_green_diagonal(torch.tensor([0.0, float("nan")]), 1j),
         ValueError, r"eps must be finite"),
    Case(M + "local_dos", lambda: local_dos(H, 0.0, 0.0), ValueError,
         r"eta must be a real number > 0"),
    Case(M + "local_dos", lambda: local_dos(H, float("nan"), 0.1), ValueError,
         r"energy must be"),
    Case(M + "chain_graph", lambda: chain_graph(torch.zeros(4)), ValueError,
         r"eps must have 2 dimensions"),
    Case(M + "chain_graph", lambda: chain_graph(torch.zeros(0, 4)), ValueError,
         r"eps must have at least one chain"),
]


@parametrize(CASES)
def test_bad_input(case):
    check(case)
