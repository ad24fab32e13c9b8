// rewrite_test.cc: qmail-send's recipient classification (the library's
// src/lib/route.h): envnoathost, percenthack, locals, virtualdomains (and
// its prefix stripping for bounces).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "route.h"

namespace qng {
namespace {

AddressMaps maps_of(std::vector<std::string> locals, std::vector<std::string> percenthack,
                    std::vector<std::string> vdoms) {
  AddressMaps m;
  m.set_locals(locals);
  m.set_percenthack(percenthack);
  m.set_virtualdomains(vdoms);
  return m;
}

struct Case {
  const char* in;
  Channel want_channel;
  const char* want_address;
};

void check(const AddressMaps& m, const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    Rewritten got = rewrite_recipient(c.in, m, "noat.example");
    EXPECT_EQ(got.channel, c.want_channel) << c.in;
    EXPECT_EQ(got.address, c.want_address) << c.in;
  }
}

TEST(Rewrite, LocalsAndEnvnoathost) {
  AddressMaps m = maps_of({"example.test", "Mixed.Case.Test", "noat.example"}, {}, {});
  check(m, {
               {"joe@example.test", kLocal, "joe@example.test"},
               {"joe@EXAMPLE.Test", kLocal, "joe@EXAMPLE.Test"},   // case-insensitive, kept as is
               {"joe@mixed.case.test", kLocal, "joe@mixed.case.test"},
               {"joe@sub.example.test", kRemote, "joe@sub.example.test"},  // no suffix rule
               {"joe@remote.example", kRemote, "joe@remote.example"},
               {"joe", kLocal, "joe@noat.example"},                  // envnoathost appended
               {"a@b@example.test", kLocal, "a@b@example.test"},    // last '@' counts
               {"", kLocal, "@noat.example"},
           });
}

TEST(Rewrite, EnvnoathostRemote) {
  AddressMaps m = maps_of({"example.test"}, {}, {});
  check(m, {{"joe", kRemote, "joe@noat.example"}});
}

TEST(Rewrite, Percenthack) {
  AddressMaps m = maps_of({"example.test"}, {"relay.test", "example.test"}, {});
  check(m, {
               // user%host@domain -> user@host
               {"joe%far.example@relay.test", kRemote, "joe@far.example"},
               // repeated while the new domain is still in percenthack
               {"joe%example.test@relay.test", kLocal, "joe@example.test"},
               {"joe%example.test%other@relay.test", kRemote, "joe%example.test@other"},
               {"joe%a.test%relay.test@relay.test", kRemote, "joe@a.test"},
               {"joe%a.test@example.test", kRemote, "joe@a.test"},
               // no '%' left: stays
               {"joe@relay.test", kRemote, "joe@relay.test"},
               // domain not listed: no rewriting
               {"joe%far.example@other.test", kRemote, "joe%far.example@other.test"},
               {"JOE%far.example@RELAY.TEST", kRemote, "JOE@far.example"},
           });
}

TEST(Rewrite, VirtualdomainsPrecedence) {
  AddressMaps m = maps_of({"example.test"},
                          {},
                          {
                              "virt.test:vu",
                              "joe@virt.test:joeuser",    // whole address beats domain
                              ".deep.test:deepuser",      // suffix
                              "x.deep.test:xuser",        // exact domain beats suffix
                              "no.deep.test:",            // exception: not virtual
                              "mary@excepted.test:mary",  // address beats exception
                              "excepted.test:",
                              "Case.Test:caseuser",
                              "nocolon.test",             // ignored
                              "dup.test:first",
                              "dup.test:second",          // the last line wins (constmap)
                          });
  check(m, {
               {"bob@virt.test", kLocal, "vu-bob@virt.test"},
               {"joe@virt.test", kLocal, "joeuser-joe@virt.test"},
               {"JOE@VIRT.TEST", kLocal, "joeuser-JOE@VIRT.TEST"},
               {"a@y.deep.test", kLocal, "deepuser-a@y.deep.test"},
               {"a@z.y.deep.test", kLocal, "deepuser-a@z.y.deep.test"},
               {"a@deep.test", kRemote, "a@deep.test"},  // ".deep.test" needs a dot before
               {"a@x.deep.test", kLocal, "xuser-a@x.deep.test"},
               {"a@no.deep.test", kRemote, "a@no.deep.test"},
               {"a@sub.no.deep.test", kLocal, "deepuser-a@sub.no.deep.test"},
               {"mary@excepted.test", kLocal, "mary-mary@excepted.test"},
               {"other@excepted.test", kRemote, "other@excepted.test"},
               {"u@case.test", kLocal, "caseuser-u@case.test"},
               {"u@nocolon.test", kRemote, "u@nocolon.test"},
               {"u@dup.test", kLocal, "second-u@dup.test"},
               {"joe@example.test", kLocal, "joe@example.test"},  // locals come first
           });
}

TEST(Rewrite, VirtualdomainsCatchAll) {
  AddressMaps m = maps_of({"example.test"}, {}, {":alias-catch", "stay.test:", ".sub.test:"});
  check(m, {
               {"a@anything.example", kLocal, "alias-catch-a@anything.example"},
               {"a@stay.test", kRemote, "a@stay.test"},        // exception beats catch-all
               {"a@x.sub.test", kRemote, "a@x.sub.test"},      // suffix exception too
               {"a@example.test", kLocal, "a@example.test"},
           });
  // Locals win over a whole-address virtualdomain entry.
  AddressMaps m2 = maps_of({"example.test"}, {}, {"a@example.test:x"});
  check(m2, {{"a@example.test", kLocal, "a@example.test"}});
}

TEST(Rewrite, PercenthackThenVirtualdomains) {
  AddressMaps m = maps_of({}, {"gw.test"}, {"virt.test:vu"});
  check(m, {{"joe%virt.test@gw.test", kLocal, "vu-joe@virt.test"}});
}

TEST(StripVdomPrepend, Table) {
  AddressMaps m = maps_of({}, {},
                          {"virt.test:vu", ".deep.test:deep", "ex.virt2.test:", ".virt2.test:v2",
                           "joe@addr.test:joeuser"});
  struct C {
    const char* in;
    const char* want;
  };
  const C cases[] = {
      {"vu-bob@virt.test", "bob@virt.test"},
      {"vu-bob@VIRT.TEST", "bob@VIRT.TEST"},
      {"VU-bob@virt.test", "VU-bob@virt.test"},  // the prefix compares case-sensitively
      {"vubob@virt.test", "vubob@virt.test"},    // no '-' after the prefix
      {"vu@virt.test", "vu@virt.test"},
      {"deep-a@x.deep.test", "a@x.deep.test"},
      {"v2-a@ex.virt2.test", "v2-a@ex.virt2.test"},  // exception: left alone
      {"v2-a@y.virt2.test", "a@y.virt2.test"},
      {"joeuser-joe@addr.test", "joeuser-joe@addr.test"},  // address keys are not tried
      {"plain@remote.test", "plain@remote.test"},
      {"noat", "noat"},
  };
  for (const auto& c : cases) EXPECT_EQ(strip_vdom_prepend(c.in, m), c.want) << c.in;
}

}  // namespace
}  // namespace qng
