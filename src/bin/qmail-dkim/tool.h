// tool.h: qmail-dkim's commands; each prints what it has to say and
// returns the exit code (0, 100 permanent, 111 temporary).
#pragma once

#include <string>
#include <vector>

namespace qng::dkimtool {

// sign SENDER: stdin (the message as stored) to stdout, signature first.
int run_sign(const std::string& home, const std::vector<std::string>& args);
// keygen DOMAIN [SELECTOR] [rsa|ed25519]: makes a key, prints its record.
int run_keygen(const std::string& home, const std::vector<std::string>& args);
// dns DOMAIN SELECTOR: prints an existing key's record.
int run_dns(const std::string& home, const std::vector<std::string>& args);

int usage();
int fatal(int code, const std::string& what);

}  // namespace qng::dkimtool
