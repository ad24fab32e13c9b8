// layout.cc: the instance layout (qmail's hier.c plus the instance's dirs).
#include "layout.h"

#include <cstdlib>

#include "queue.h"

namespace qng::ctl {

uid_t Ids::uid(Who w) const {
  switch (w) {
    case Who::kRoot: return root;
    case Who::kAlias: return alias;
    case Who::kQmaild: return qmaild;
    case Who::kQmaill: return qmaill;
    case Who::kQmailp: return qmailp;
    case Who::kQmailq: return qmailq;
    case Who::kQmailr: return qmailr;
    case Who::kQmails: return qmails;
  }
  return root;
}

gid_t Ids::gid(Group g) const { return g == Group::kQmail ? qmail : nofiles; }

std::vector<Node> layout_nodes() {
  using enum Kind;
  using W = Who;
  using G = Group;
  std::vector<Node> n = {
      {"", kDir, W::kRoot, G::kQmail, 0755},
      {"bin", kDir, W::kRoot, G::kQmail, 0755},
      {"control", kDir, W::kRoot, G::kQmail, 0755},
      {"users", kDir, W::kRoot, G::kQmail, 0755},
      {"alias", kDir, W::kAlias, G::kQmail, 02755},
      {"alias/Maildir", kDir, W::kAlias, G::kNofiles, 0700},
      {"alias/Maildir/tmp", kDir, W::kAlias, G::kNofiles, 0700},
      {"alias/Maildir/new", kDir, W::kAlias, G::kNofiles, 0700},
      {"alias/Maildir/cur", kDir, W::kAlias, G::kNofiles, 0700},
      {"home", kDir, W::kRoot, G::kQmail, 0755},
      {"log", kDir, W::kRoot, G::kQmail, 0755},
      {kSendLogDir, kDir, W::kQmaill, G::kNofiles, 0755},
      {"supervise", kDir, W::kRoot, G::kQmail, 0755},
      {"queue", kDir, W::kQmailq, G::kQmail, 0750},
      {"queue/pid", kDir, W::kQmailq, G::kQmail, 0700},
      {"queue/intd", kDir, W::kQmailq, G::kQmail, 0700},
      {"queue/todo", kDir, W::kQmailq, G::kQmail, 0750},
      {"queue/bounce", kDir, W::kQmails, G::kQmail, 0700},
  };
  struct Split {
    const char* dir;
    Who owner;
    mode_t mode;
  };
  const Split splits[] = {{"mess", W::kQmailq, 0750},
                          {"info", W::kQmails, 0700},
                          {"local", W::kQmails, 0700},
                          {"remote", W::kQmails, 0700}};
  for (const auto& s : splits) {
    std::string d = std::string("queue/") + s.dir;
    n.push_back({d, kDir, s.owner, G::kQmail, s.mode});
    for (unsigned long i = 0; i < kQueueSplit; ++i)
      n.push_back({d + "/" + std::to_string(i), kDir, s.owner, G::kQmail, s.mode});
  }
  n.push_back({"queue/lock", kDir, W::kQmailq, G::kQmail, 0750});
  n.push_back({"queue/lock/tcpto", kZeros1024, W::kQmailr, G::kQmail, 0644});
  n.push_back({kSendMutex, kEmpty, W::kQmails, G::kQmail, 0600});
  n.push_back({"queue/lock/trigger", kFifo, W::kQmails, G::kQmail, 0622});
  return n;
}

namespace {

size_t count_dots(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += c == '.';
  return n;
}

}  // namespace

// sed 's/^\([^\.]*\)\.\([^\.]*\)\./\2\./'
std::string default_domain_of(std::string_view me) {
  if (count_dots(me) < 2) return std::string(me);
  return std::string(me.substr(me.find('.') + 1));
}

// sed 's/^.*\.\([^\.]*\)\.\([^\.]*\)$/\1.\2/'
std::string plus_domain_of(std::string_view me) {
  if (count_dots(me) < 2) return std::string(me);
  size_t last = me.rfind('.');
  size_t second = me.rfind('.', last - 1);
  return std::string(me.substr(second + 1));
}

const Service kServices[6] = {
    {"smtp", "qmail-smtpd", "qmail-smtpd", "control/listen.smtp", "control/tcp.smtp",
     "127.:allow,RELAYCLIENT=\"\"\n:allow\n", "supervise/smtp.pid", "log/smtp", false,
     "421 4.7.0 too many connections from your address (#4.7.0)\r\n", false},
    {"pop3", "qmail-pop3d", "qmail-pop3d", "control/listen.pop3", "control/tcp.pop3", ":allow\n",
     "supervise/pop3.pid", "log/pop3", true, "-ERR too many connections from your address\r\n",
     false},
    {"qmtp", "qmail-qmtpd", "qmail-qmtpd", "control/listen.qmtp", "control/tcp.qmtp",
     "127.:allow,RELAYCLIENT=\"\"\n:allow\n", "supervise/qmtp.pid", "log/qmtp", false, "", false},
    // QMQP clients are trusted with any envelope: only this host by default.
    {"qmqp", "qmail-qmqpd", "qmail-qmqpd", "control/listen.qmqp", "control/tcp.qmqp",
     "127.:allow\n:deny\n", "supervise/qmqp.pid", "log/qmqp", false, "", false},
    // Submission (port 587, RFC 6409): qmail-smtpd refusing MAIL before AUTH.
    {"submission", "qmail-smtpd/submission", "qmail-smtpd", "control/listen.submission",
     "control/tcp.submission", ":allow,SUBMISSION=\"\"\n", "supervise/submission.pid",
     "log/submission", false, "421 4.7.0 too many connections from your address (#4.7.0)\r\n",
     true},
    // SMTPS (port 465, RFC 8314): qmail-smtpd with TLS before the greeting.
    // No -M text: a client expecting TLS could not read it.
    {"smtps", "qmail-smtpd/smtps", "qmail-smtpd", "control/listen.smtps", "control/tcp.smtps",
     ":allow,SMTPS=\"\"\n", "supervise/smtps.pid", "log/smtps", false, "", true},
};

}  // namespace qng::ctl

namespace qng::ctl {

Result<std::string> absolute_path(const std::string& path, bool must_exist) {
  if (must_exist) {
    char* r = ::realpath(path.c_str(), nullptr);
    if (!r) return Error::last("unable to find " + path);
    std::string s(r);
    std::free(r);
    return s;
  }
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    return absolute_path(path, true);
  }
  auto abs_parent = absolute_path(parent, true);
  if (!abs_parent) return abs_parent.error();
  return (*abs_parent == "/" ? "" : *abs_parent) + "/" + name;
}

}  // namespace qng::ctl
