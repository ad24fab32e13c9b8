// options.cc: tcpserver's command line, ucspi-tcp's letters and meanings.
#include <string_view>

#include "size.h"
#include "tcpserver.h"

namespace qng {

namespace {

constexpr std::string_view kFlags = "146dDhHpPrRoOvqQUX";
constexpr std::string_view kWithArg = "cCMxBuglbtI";
constexpr uint64_t kIdMax = 0x7fffffff;  // uid_t/gid_t values we accept

Error usage(const std::string& why) { return Error::perm(why); }

Result<uint64_t> number(char letter, std::string_view v, uint64_t min, uint64_t max) {
  auto n = parse_decimal(v, max);
  if (!n || *n < min)
    return usage(std::string("-") + letter + " needs a number from " + std::to_string(min) +
                 " to " + std::to_string(max) + ", not '" + std::string(v) + "'");
  return *n;
}

// Applies one option; `arg` is its argument for the letters that take one.
Status apply(ServerOptions& o, char letter, std::string_view arg, const GetenvFn& getenv_fn) {
  switch (letter) {
    case '1': o.print_port = true; break;
    case '4': o.family = AF_INET; break;
    case '6': o.family = AF_INET6; break;
    case 'd': o.nodelay = false; break;
    case 'D': o.nodelay = true; break;
    case 'h': o.remote_host = true; break;
    case 'H': o.remote_host = false; break;
    case 'p': o.paranoid = true; break;
    case 'P': o.paranoid = false; break;
    case 'r': o.remote_info = true; break;
    case 'R': o.remote_info = false; break;
    case 'o': o.kill_ip_options = false; break;
    case 'O': o.kill_ip_options = true; break;
    case 'v': o.verbosity = 2; break;
    case 'q': o.verbosity = 0; break;
    case 'Q': o.verbosity = 1; break;
    case 'X': o.allow_no_rules = true; break;
    case 'U': {
      // $UID and $GID as envuidgid sets them; unset ones change nothing.
      if (const char* u = getenv_fn("UID")) {
        auto n = number('U', u, 0, kIdMax);
        if (!n) return usage("$UID is not a number");
        o.uid = static_cast<uid_t>(*n);
      }
      if (const char* g = getenv_fn("GID")) {
        auto n = number('U', g, 0, kIdMax);
        if (!n) return usage("$GID is not a number");
        o.gid = static_cast<gid_t>(*n);
      }
      break;
    }
    case 'c': {
      auto n = number('c', arg, 1, 1000000);
      if (!n) return n.error();
      o.limit = *n;
      break;
    }
    case 'C': {
      auto n = number('C', arg, 0, 1000000);
      if (!n) return n.error();
      o.per_ip = *n;
      break;
    }
    case 'b': {
      auto n = number('b', arg, 1, 65535);
      if (!n) return n.error();
      o.backlog = static_cast<int>(*n);
      break;
    }
    case 't': {
      auto n = number('t', arg, 0, 86400);
      if (!n) return n.error();
      o.timeout = *n;
      break;
    }
    case 'u': {
      auto n = number('u', arg, 0, kIdMax);
      if (!n) return n.error();
      o.uid = static_cast<uid_t>(*n);
      break;
    }
    case 'g': {
      auto n = number('g', arg, 0, kIdMax);
      if (!n) return n.error();
      o.gid = static_cast<gid_t>(*n);
      break;
    }
    case 'M': o.per_ip_text = arg; break;
    case 'x': o.rules = arg; break;
    case 'B': o.banner = arg; break;
    case 'l': o.local_host = std::string(arg); break;
    case 'I': o.interface = arg; break;
    default:
      return usage(std::string("unknown option -") + letter);
  }
  return {};
}

}  // namespace

Result<ServerOptions> parse_server_options(const std::vector<std::string>& args,
                                           const GetenvFn& getenv_fn) {
  ServerOptions o;
  size_t i = 0;
  while (i < args.size()) {
    std::string_view a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    ++i;
    for (size_t k = 1; k < a.size(); ++k) {
      char letter = a[k];
      if (kWithArg.find(letter) != std::string_view::npos) {
        std::string_view arg;
        if (k + 1 < a.size()) {
          arg = a.substr(k + 1);
        } else if (i < args.size()) {
          arg = args[i++];
        } else {
          return usage(std::string("-") + letter + " needs an argument");
        }
        if (auto st = apply(o, letter, arg, getenv_fn); !st) return st.error();
        break;
      }
      if (kFlags.find(letter) == std::string_view::npos)
        return usage(std::string("unknown option -") + letter);
      if (auto st = apply(o, letter, {}, getenv_fn); !st) return st.error();
    }
  }
  if (args.size() - i < 3) return usage("need host, port and program");
  o.host = args[i];
  o.port = args[i + 1];
  o.program.assign(args.begin() + static_cast<long>(i) + 2, args.end());
  if (o.program[0].empty()) return usage("the program name is empty");
  return o;
}

}  // namespace qng
