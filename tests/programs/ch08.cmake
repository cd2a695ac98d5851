# Chapter 08 program: bad sizes.
course_expect_error(ch08_attention_for_images patch_not_dividing --size 16 --patch 5)
course_expect_error(ch08_attention_for_images patch_zero --patch 0)
course_expect_error(ch08_attention_for_images size_not_multiple_of_4 --size 18 --patch 3)
course_expect_error(ch08_attention_for_images size_not_a_number --size big)
course_expect_error(ch08_attention_for_images needs_gigabytes --size 4096 --patch 4)
