# Chapter 11 program: PyTorch interop (torch.nn.TransformerEncoderLayer) and bad input.
foreach(case post_norm pre_norm post_norm_4_heads pre_norm_1_head)
  course_interop_test(ch11_transformer_block 11_transformer_block/${case} output.npy)
endforeach()
