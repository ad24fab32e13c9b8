// commands.h: one function per qmailctl command; each prints what it has to
// say and returns the exit code (0, 100 permanent, 111 temporary).
#pragma once

#include <string>

#include "options.h"

namespace qng::ctl {

int run_init(const Options& o);                     // init.cc
int run_start(const std::string& dir);              // service.cc
int run_stop(const std::string& dir);
int run_restart(const std::string& dir);
int run_signal(const std::string& dir, int sig);    // doqueue, reload
int run_stat(const std::string& dir);
int run_queue(const std::string& dir);              // queue.cc
int run_cdb(const std::string& dir);                // compile.cc
int run_passwd(const std::string& dir, const std::string& address);  // keys.cc
int run_dkim_keygen(const std::string& dir, const std::string& domain,
                    const std::string& selector, bool ed25519);

}  // namespace qng::ctl
