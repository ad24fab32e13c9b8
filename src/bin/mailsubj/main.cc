// mailsubj subject recipient [...]: sends standard input as the body of a
// message with that Subject, To the recipients, through HOME/bin/qmail-inject
// (which takes the recipients from the To field). CR and LF in the
// arguments become spaces, so they cannot add header fields.
// Exit: qmail-inject's; 100 usage; 111 when it cannot be run.
#include <string>
#include <vector>

#include "instance.h"
#include "prefix.h"

namespace {

using namespace qng;

constexpr predate::Program kMailsubj{"mailsubj", "mailsubj subject recipient [ recipient ... ]",
                                     2};

int run(const std::vector<std::string>& args) {
  std::string header = "Subject: " + predate::one_line(args[0]) + "\nTo:";
  for (size_t i = 1; i < args.size(); ++i) header += " " + predate::one_line(args[i]);
  header += "\n\n";
  return predate::run_prefixed(kMailsubj, {home_trusting_env() + "/bin/qmail-inject"}, header);
}

}  // namespace

int main(int argc, char** argv) { return predate::program_main(kMailsubj, argc, argv, run); }
