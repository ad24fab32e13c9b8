// controls.cc: reading qmail-send's control files.
#include "controls.h"

#include <vector>

namespace qng::send {
namespace {

// control/locals; when missing, control/me; when both are missing, an error
// (qmail refuses to start without knowing its local domains).
Result<std::vector<std::string>> read_locals(const Control& ctl) {
  auto has = ctl.exists("locals");
  if (!has) return has.error();
  if (*has) return ctl.lines("locals");
  auto me = ctl.line("me");
  if (!me) return me.error();
  if (!*me) return Error::temp("control/locals and control/me are both missing");
  return std::vector<std::string>{**me};
}

// Concurrency values above the 2-byte slot space are cut to it.
unsigned as_concurrency(uint64_t v) { return v > 65535 ? 65535u : static_cast<unsigned>(v); }

}  // namespace

BounceFormat parse_bounceformat(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  std::string v(value);
  for (char& ch : v)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return v == "qsbmf" ? BounceFormat::kQsbmf : BounceFormat::kDsn;
}

Result<Controls> read_controls(const Control& ctl) {
  Controls c;
  auto lifetime = ctl.number("queuelifetime", 604800);
  if (!lifetime) return lifetime.error();
  c.queuelifetime = *lifetime;
  auto cl = ctl.number("concurrencylocal", kChanConcurrency[kLocal]);
  if (!cl) return cl.error();
  c.concurrency[kLocal] = as_concurrency(*cl);
  auto cr = ctl.number("concurrencyremote", kChanConcurrency[kRemote]);
  if (!cr) return cr.error();
  c.concurrency[kRemote] = as_concurrency(*cr);

  auto envnoathost = ctl.line_or("envnoathost", true, "envnoathost");
  if (!envnoathost) return envnoathost.error();
  c.envnoathost = *envnoathost;
  auto bouncefrom = ctl.line_or("bouncefrom", false, "MAILER-DAEMON");
  if (!bouncefrom) return bouncefrom.error();
  c.bouncefrom = *bouncefrom;
  auto bouncehost = ctl.line_or("bouncehost", true, "bouncehost");
  if (!bouncehost) return bouncehost.error();
  c.bouncehost = *bouncehost;
  auto dbhost = ctl.line_or("doublebouncehost", true, "doublebouncehost");
  if (!dbhost) return dbhost.error();
  auto dbto = ctl.line_or("doublebounceto", false, "postmaster");
  if (!dbto) return dbto.error();
  c.doublebounceto = *dbto + "@" + *dbhost;

  auto me = ctl.line_or("me", false, c.bouncehost);
  if (!me) return me.error();
  c.me = *me;
  auto format = ctl.line_or("bounceformat", false, "dsn");
  if (!format) return format.error();
  c.bounceformat = parse_bounceformat(*format);

  auto locals = read_locals(ctl);
  if (!locals) return locals.error();
  c.maps.set_locals(*locals);
  auto percenthack = ctl.lines("percenthack");
  if (!percenthack) return percenthack.error();
  c.maps.set_percenthack(*percenthack);
  auto vdoms = ctl.lines("virtualdomains");
  if (!vdoms) return vdoms.error();
  c.maps.set_virtualdomains(*vdoms);
  return c;
}

Status reread_maps(const Control& ctl, AddressMaps& maps) {
  auto locals = read_locals(ctl);
  if (!locals) return Error::temp("control/locals", locals.error().code());
  auto vdoms = ctl.lines("virtualdomains");
  if (!vdoms) return Error::temp("control/virtualdomains", vdoms.error().code());
  maps.set_locals(*locals);
  maps.set_virtualdomains(*vdoms);
  return {};
}

}  // namespace qng::send
