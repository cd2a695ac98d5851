# Chapter 18 program: bad input (course_expect_error: tests/CMakeLists.txt). The PyTorch cases
# (--load, fixtures by chapters/18_pretrain_finetune/make_fixtures.py) come with the program's --load path.
course_expect_error(ch18_pretrain_finetune fortunes_missing --fortunes /nonexistent)
course_expect_error(ch18_pretrain_finetune fortunes_is_a_file --fortunes /etc/hostname)
course_expect_error(ch18_pretrain_finetune rank_zero --rank 0)
course_expect_error(ch18_pretrain_finetune rank_above_width --rank 9)
course_expect_error(ch18_pretrain_finetune rank_not_a_number --rank two)
course_expect_error(ch18_pretrain_finetune alpha_zero --lora-alpha 0)
course_expect_error(ch18_pretrain_finetune alpha_negative --lora-alpha -1)
course_expect_error(ch18_pretrain_finetune alpha_nan --lora-alpha nan)
