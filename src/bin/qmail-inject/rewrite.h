// rewrite.h: qmail-inject's address rewriting (qmail-header(5)).
#pragma once

#include <string>

#include "result.h"
#include "token822.h"

namespace qng::inject {

// The host names qmail-inject fills in, already tokenized.
struct RewriteRules {
  Tokens default_host;    // "@" defaulthost: appended to a bare box
  Tokens default_domain;  // "." defaultdomain: appended to a dotless host
  Tokens plus_domain;     // "." plusdomain: replaces a host's final '+'

  // Builds the rules from the three names; a name that does not tokenize
  // is a permanent error naming the text.
  static Result<RewriteRules> make(const std::string& defaulthost,
                                   const std::string& defaultdomain,
                                   const std::string& plusdomain);
};

// Rewrites one address (tokens in order, no angle brackets), in this order:
// <> and box@[] stay; a source route "@a,@b:" is dropped; a final '.' or
// '@' is dropped; a box without '@' gets @defaulthost; a host ending in
// '+' loses it and gets .plusdomain; a host without a dot (and not a
// [literal]) gets .defaultdomain.
void rewrite_address(Tokens& address, const RewriteRules& rules);

}  // namespace qng::inject
