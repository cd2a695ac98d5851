// Chapter 04 — given code (not an exercise): the masks' helpers no_mask, padding_mask and
// combine_masks, and one_head_layer. For now they are still in the contract; they move here with
// the PyTorch loaders (see common/contracts/04_masking.hpp). Include this header for them.
#pragma once
#include "contracts/04_masking.hpp"
