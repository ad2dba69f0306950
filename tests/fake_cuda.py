"""Test-only pytest plugin: make `torch.cuda.is_available()` answer True in the pytest process
(not in the notebook kernels), to check how tests.nbval_gpu treats GPU cells on a GPU host."""
import torch

torch.cuda.is_available = lambda: True
