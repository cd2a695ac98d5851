# Chapter 01 program: bad sizes (course_expect_error is in tests/CMakeLists.txt).
course_expect_error(ch01_tensors rows_not_a_number --rows abc)
course_expect_error(ch01_tensors rows_zero --rows 0)
course_expect_error(ch01_tensors rows_negative --rows -3)
course_expect_error(ch01_tensors cols_fraction --cols 2.5)
course_expect_error(ch01_tensors needs_gigabytes --rows 100000 --cols 100000)
