"""Read GameFlow run folders into NumPy arrays and move GAN parameters between GameFlow's flat
state and PyTorch-style state dicts (NumPy only; pandas is used when installed).

GameFlow's conventions (the networks follow PyTorch's): a network's parameters are, layer after
layer, its weight then its bias, row-major, with weights shaped as torch.nn.Linear (out, in),
Conv2d (out, in, k, k) and ConvTranspose2d (in, out, k, k); the state x holds the two networks
in the run's layout ("generator-first": generator then discriminator). A state dict names layer
i of the generator "generator.i.weight" and "generator.i.bias" (i counts the architecture's
layers from 0, activations and views included, as torch.nn.Sequential numbers its modules).
"""
from .run import Run, read_run, read_npy_header
from .convert import layer_shapes, state_to_state_dict, state_dict_to_state, save_state_dict, load_state_dict, DCGAN28

__all__ = ["Run", "read_run", "read_npy_header", "layer_shapes", "state_to_state_dict", "state_dict_to_state",
           "save_state_dict", "load_state_dict", "DCGAN28"]
