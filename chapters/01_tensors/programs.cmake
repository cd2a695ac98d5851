# Chapter 01 program: bad sizes (course_expect_error is in tests/CMakeLists.txt).
course_expect_error(ch01_tensors rows_not_a_number --rows abc)
course_expect_error(ch01_tensors rows_zero --rows 0)
course_expect_error(ch01_tensors rows_negative --rows -3)
course_expect_error(ch01_tensors cols_fraction --cols 2.5)
course_expect_error(ch01_tensors needs_gigabytes --rows 100000 --cols 100000)

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch01_tensors limit_rows_range "--rows: 1000000 is out of range" --rows 1000000)
course_expect_limit(ch01_tensors limit_work "a 10 x 100000 score matrix would take [0-9.e+]+ multiply-adds"
                    --rows 10 --cols 100000)
course_expect_limit(ch01_tensors limit_work_with_svg "a 2500 x 100 score matrix would take"
                    --rows 2500 --cols 100 --svg ${CMAKE_CURRENT_BINARY_DIR}/limit_svg)
