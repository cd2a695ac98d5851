// The precompiled header shared by every heavy target. Only stable, third-party headers go here.
#pragma once
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xio.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>
