// predate child [arg ...]: runs child with its standard input a Date field
// in local time ("Date: Sun, 03 Mar 2024 10:05:01 +0100") followed by
// predate's own standard input. Exit: the child's; 100 usage; 111 when the
// child cannot be run or crashed.
#include <ctime>
#include <string>
#include <vector>

#include "prefix.h"

namespace {

using namespace qng;

constexpr predate::Program kPredate{"predate", "predate child [ arg ... ]", 1};

int run(const std::vector<std::string>& args) {
  return predate::run_prefixed(kPredate, args, predate::local_date_line(::time(nullptr)));
}

}  // namespace

int main(int argc, char** argv) { return predate::program_main(kPredate, argc, argv, run); }
