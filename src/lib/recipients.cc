// recipients.cc: building and reading users/recipients.cdb (see the header
// for the record layout and docs/smtp.md for the administrator's view).
//
// The builder replays local delivery's decisions. Every "source" of a
// delivery decision (a users/cdb record, a passwd account qmail-getpw would
// pick, the alias user) contributes the local parts its .qmail files
// accept; an entry is kept only when that source is the one qmail-lspawn
// would choose for it (exact beats wildcard, longer prefix beats shorter,
// users/cdb beats qmail-getpw beats alias), so that a catch-all never
// speaks for addresses a more specific assignment governs.
#include "recipients.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "address.h"
#include "control.h"
#include "error.h"

namespace qng {

namespace {

constexpr char kBreak = '-';          // conf-break
constexpr size_t kUserLen = 32;       // qmail-getpw: account names are shorter
constexpr size_t kMaxDirEntries = 100000;  // .qmail files read per home
constexpr size_t kMaxColons = 3;      // ext ':' that may be '.' or ':': 2^3 spellings
constexpr size_t kMaxAccounts = 1000000;

// Record types and values (the first and second byte of a record's data).
constexpr char kDomain = 'D';
constexpr char kExact = 'E';
constexpr char kWild = 'W';
constexpr char kLocal = 'L';
constexpr char kVirtual = 'V';
constexpr char kException = 'X';
constexpr char kYes = '+';
constexpr char kNo = '-';
constexpr char kRemote = 'R';

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// qmail-local's safeext: lowercase, '.' turned into ':'.
std::string safe_ext(std::string_view ext) {
  std::string s = lowercase(ext);
  std::replace(s.begin(), s.end(), '.', ':');
  return s;
}

// Every local-part spelling whose safe_ext is `r`: each ':' may have been
// '.' or ':'. nullopt when there are too many spellings to list.
std::optional<std::vector<std::string>> spellings(const std::string& r) {
  size_t colons = static_cast<size_t>(std::count(r.begin(), r.end(), ':'));
  if (colons > kMaxColons) return std::nullopt;
  std::vector<std::string> out{std::string()};
  for (char c : r) {
    std::vector<std::string> next;
    for (const auto& s : out) {
      next.push_back(s + c);
      if (c == ':') next.push_back(s + '.');
    }
    out = std::move(next);
  }
  return out;
}

// A regular file at path as qmail-local sees it: 1 yes, 0 no, -1 unknown.
int regular_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return S_ISREG(st.st_mode) ? 1 : 0;
  if (errno == ENOENT || errno == ENOTDIR) return 0;
  return -1;
}

// Who decides a delivery (qmail-lspawn's choice).
struct Source {
  enum Kind { kCdbExact, kCdbPrefix, kAccount, kAlias } kind;
  std::string key;   // local part, prefix or account name (lowercase)
  std::string home;
  std::string dash;
  std::string ext;   // qmail-local's ext for the key itself
  bool unknown = false;  // delivery would fail temporarily: accept all
};

class Builder {
 public:
  explicit Builder(const recipients::Sources& s) : src_(s) {}

  Status run(recipients::LocalTable& out);

 private:
  Status read_users_cdb();
  void add_getpw_sources();
  const Source* governor_exact(std::string_view x) const;
  const Source* governor_space(std::string_view w) const;
  const Source* getpw_governor(std::string_view x, bool space) const;
  bool exact_deliverable(const Source& s) const;
  void add_exact(const Source& s, const std::string& x, bool yes);
  void add_wild(const Source& s, const std::string& w, bool yes);
  void add_file_entries(const Source& s, const std::string& prefix, const std::string& ext0);

  const recipients::Sources& src_;
  std::vector<Source> sources_;  // stable after setup: pointers below
  std::map<std::string, size_t> cdb_exact_;
  std::map<std::string, size_t> cdb_prefix_;
  bool have_cdb_ = false;
  std::map<std::string, size_t> accounts_;
  std::optional<size_t> alias_;  // absent when users/cdb catches all
  recipients::LocalTable* table_ = nullptr;
};

Status Builder::read_users_cdb() {
  auto cdb = CdbReader::open(src_.home + "/users/cdb");
  if (!cdb) {
    if (cdb.error().code() == ENOENT) return {};
    return cdb.error();
  }
  have_cdb_ = true;
  auto records = cdb->dump();
  if (!records) return records.error();
  for (auto& [key, value] : *records) {
    if (key.empty() || key[0] != '!') continue;
    bool exact = key.back() == '\0';
    std::string local = key.substr(1, key.size() - (exact ? 2 : 1));
    // user \0 uid \0 gid \0 home \0 dash \0 ext: a record lspawn cannot
    // parse makes its deliveries fail temporarily.
    std::vector<std::string> f;
    std::string_view rest = value;
    for (int i = 0; i < 5; ++i) {
      size_t nul = rest.find('\0');
      if (nul == std::string_view::npos) break;
      f.emplace_back(rest.substr(0, nul));
      rest.remove_prefix(nul + 1);
    }
    Source s{exact ? Source::kCdbExact : Source::kCdbPrefix, local, "", "", "", false};
    if (f.size() == 5 && rest.find('\0') == std::string_view::npos) {
      s.home = f[3];
      s.dash = f[4];
      s.ext = std::string(rest);
    } else {
      s.unknown = true;
    }
    auto& index = exact ? cdb_exact_ : cdb_prefix_;
    if (index.count(local)) continue;  // the first of duplicate keys wins
    index.emplace(local, sources_.size());
    sources_.push_back(std::move(s));
  }
  return {};
}

// qmail-getpw's candidates: uid != 0, lowercase names shorter than 32 bytes
// whose home exists and belongs to them; then the alias user.
void Builder::add_getpw_sources() {
  for (const auto& a : src_.accounts) {
    if (a.uid == 0 || a.name.empty() || a.name.size() >= kUserLen || has_upper(a.name)) continue;
    if (src_.own_instance && a.uid != src_.uid) continue;
    if (accounts_.count(a.name)) continue;
    Source s{Source::kAccount, a.name, a.home, "-", "", false};
    struct stat st;
    if (::stat(a.home.c_str(), &st) == 0) {
      if (st.st_uid != a.uid) continue;
    } else if (!is_temp(errno)) {
      continue;
    } else {
      s.unknown = true;  // qmail-getpw exits 115: a temporary failure
    }
    accounts_.emplace(a.name, sources_.size());
    sources_.push_back(std::move(s));
  }

  Source alias{Source::kAlias, "", "", "-", "", false};
  if (src_.own_instance) {
    alias.home = src_.home + "/alias";
    struct stat st;
    if (::stat(alias.home.c_str(), &st) != 0 || st.st_uid != src_.uid) alias.unknown = true;
  } else {
    auto it = std::find_if(src_.accounts.begin(), src_.accounts.end(),
                           [](const recipients::Account& a) { return a.name == "alias"; });
    if (it == src_.accounts.end())
      alias.unknown = true;  // qmail-getpw exits 116: temporary
    else
      alias.home = it->home;
  }
  alias_ = sources_.size();
  sources_.push_back(std::move(alias));
}

const Source* Builder::getpw_governor(std::string_view x, bool space) const {
  // The longest prefix ending at a BREAK (or, for one address, at its end)
  // that names an account.
  size_t end = space ? x.size() : x.size() + 1;
  while (end-- > 0) {
    bool at_break = end < x.size() ? x[end] == kBreak : true;
    if (!at_break || end >= kUserLen || end == 0) continue;
    auto it = accounts_.find(std::string(x.substr(0, end)));
    if (it != accounts_.end()) return &sources_[it->second];
  }
  return alias_ ? &sources_[*alias_] : nullptr;
}

const Source* Builder::governor_exact(std::string_view x) const {
  if (auto it = cdb_exact_.find(std::string(x)); it != cdb_exact_.end())
    return &sources_[it->second];
  for (size_t len = x.size() + 1; len-- > 0;) {
    auto it = cdb_prefix_.find(std::string(x.substr(0, len)));
    if (it != cdb_prefix_.end()) return &sources_[it->second];
  }
  return getpw_governor(x, false);
}

// Who decides for the local parts that start with w and match no longer
// key (those longer keys carry records of their own).
const Source* Builder::governor_space(std::string_view w) const {
  for (size_t len = w.size() + 1; len-- > 0;) {
    auto it = cdb_prefix_.find(std::string(w.substr(0, len)));
    if (it != cdb_prefix_.end()) return &sources_[it->second];
  }
  return getpw_governor(w, true);
}

void Builder::add_exact(const Source& s, const std::string& x, bool yes) {
  if (governor_exact(x) != &s) return;
  auto [it, fresh] = table_->exact.emplace(x, yes);
  if (!fresh && yes) it->second = true;
}

void Builder::add_wild(const Source& s, const std::string& w, bool yes) {
  if (governor_space(w) != &s) return;
  auto [it, fresh] = table_->wildcard.emplace(w, yes);
  if (!fresh && yes) it->second = true;
}

// qmail-local's search for one ext: .qmail<dash><ext>, then the -default
// files of its prefixes ending in '-', longest first, then .qmail<dash>default.
bool Builder::exact_deliverable(const Source& s) const {
  if (s.unknown || s.dash.empty() || s.home.empty() || s.home[0] != '/') return true;
  std::string base = s.home + "/.qmail" + s.dash;
  std::string e = safe_ext(s.ext);
  if (regular_file(base + e) != 0) return true;
  for (size_t i = e.size(); i > 0; --i)
    if (e[i - 1] == '-' && regular_file(base + e.substr(0, i) + "default") != 0) return true;
  return regular_file(base + "default") != 0;
}

// The local parts prefix+rest whose ext0+rest finds a .qmail file in the
// source's home.
void Builder::add_file_entries(const Source& s, const std::string& prefix,
                               const std::string& ext0) {
  if (s.unknown || s.dash.empty() || s.home.empty() || s.home[0] != '/') {
    add_wild(s, prefix, true);
    return;
  }
  add_wild(s, prefix, false);
  DIR* dir = ::opendir(s.home.c_str());
  if (!dir) {  // qmail-local cannot chdir: a temporary failure
    add_wild(s, prefix, true);
    return;
  }
  std::string lead = ".qmail" + s.dash;
  std::string safe0 = safe_ext(ext0);
  size_t seen = 0;
  for (;;) {
    errno = 0;
    struct dirent* d = ::readdir(dir);
    if (!d) break;
    if (++seen > kMaxDirEntries) {
      add_wild(s, prefix, true);
      break;
    }
    std::string name = d->d_name;
    if (!starts_with(name, lead)) continue;
    std::string x = name.substr(lead.size());
    // qmail-local looks for lowercase names without dots only.
    if (has_upper(x) || x.find('.') != std::string::npos) continue;
    if (regular_file(s.home + "/" + name) == 0) continue;

    auto add_all = [&](const std::string& r, bool wild) {
      auto list = spellings(r);
      if (!list) {  // too many spellings: accept the whole range
        add_wild(s, prefix + r.substr(0, r.find(':')), true);
        return;
      }
      for (const auto& v : *list) {
        if (wild)
          add_wild(s, prefix + v, true);
        else
          add_exact(s, prefix + v, true);
      }
    };
    if (starts_with(x, safe0)) add_all(x.substr(safe0.size()), false);
    constexpr std::string_view kDefault = "default";
    if (x.size() >= kDefault.size() && x.compare(x.size() - 7, 7, kDefault) == 0 &&
        (x.size() == 7 || x[x.size() - 8] == '-')) {
      std::string y = x.substr(0, x.size() - 7);
      if (starts_with(y, safe0))
        add_all(y.substr(safe0.size()), true);
      else if (starts_with(safe0, y))
        add_wild(s, prefix, true);
    }
  }
  if (errno != 0) add_wild(s, prefix, true);  // a read error: accept all
  ::closedir(dir);
}

Status Builder::run(recipients::LocalTable& out) {
  table_ = &out;
  if (auto st = read_users_cdb(); !st) return st;
  // Without a catch-all users/cdb line, qmail-getpw decides the rest.
  if (!cdb_prefix_.count("")) add_getpw_sources();

  for (const Source& s : sources_) {
    switch (s.kind) {
      case Source::kCdbExact:
        add_exact(s, s.key, exact_deliverable(s));
        break;
      case Source::kCdbPrefix:
        add_file_entries(s, s.key, s.ext);
        break;
      case Source::kAccount:
        add_exact(s, s.key, true);  // dash "": .qmail or defaultdelivery
        add_file_entries(s, s.key + kBreak, "");
        break;
      case Source::kAlias:
        add_file_entries(s, "", "");
        break;
    }
  }
  return {};
}

}  // namespace

namespace recipients {

bool LocalTable::deliverable(std::string_view local) const {
  std::string x = lowercase(local);
  if (auto it = exact.find(x); it != exact.end()) return it->second;
  for (size_t len = x.size() + 1; len-- > 0;) {
    auto it = wildcard.find(x.substr(0, len));
    if (it != wildcard.end()) return it->second;
  }
  return false;
}

Sources sources_for(const std::string& home) {
  Sources s;
  s.home = home;
  struct stat st;
  if (::stat(home.c_str(), &st) == 0 && st.st_uid != 0) {
    s.own_instance = true;
    s.uid = st.st_uid;
  }
  ::setpwent();
  while (struct passwd* pw = ::getpwent()) {
    if (s.accounts.size() >= kMaxAccounts) break;
    if (s.own_instance && pw->pw_uid != s.uid) continue;
    s.accounts.push_back(Account{pw->pw_name, pw->pw_uid, pw->pw_dir ? pw->pw_dir : ""});
  }
  ::endpwent();
  return s;
}

Result<LocalTable> local_table(const Sources& sources) {
  LocalTable t;
  Builder b(sources);
  if (auto st = b.run(t); !st) return st.error();
  return t;
}

Records db_records(const LocalTable& table, const std::vector<std::string>& locals,
                   const std::vector<std::string>& virtualdomains) {
  Records r;
  std::set<std::string> local_set;
  for (const auto& l : locals) local_set.insert(lowercase(l));

  // Every local part under one domain key.
  auto project = [&](const std::string& k, std::string_view strip) {
    for (const auto& [x, yes] : table.exact) {
      if (!starts_with(x, strip) || x.size() == strip.size()) continue;
      r[{x.substr(strip.size()) + "@" + k, kExact}] = yes ? kYes : kNo;
    }
    // Prefixes that the stripped part extends decide for all of k's
    // addresses when no longer one does: the longest of them gives "*@k".
    const std::pair<const std::string, bool>* all = nullptr;
    for (const auto& entry : table.wildcard) {
      const std::string& w = entry.first;
      if (starts_with(w, strip)) {
        r[{w.substr(strip.size()) + "*@" + k, kWild}] = entry.second ? kYes : kNo;
      } else if (starts_with(strip, w) && (!all || w.size() > all->first.size())) {
        all = &entry;
      }
    }
    if (all && !r.count({"*@" + k, kWild})) r[{"*@" + k, kWild}] = all->second ? kYes : kNo;
  };

  for (const auto& d : local_set) {
    r[{"@" + d, kDomain}] = kLocal;
    project(d, "");
  }

  // virtualdomains: the last line of a key wins, as qmail-send's constmap.
  std::map<std::string, std::string> vdoms;
  for (const auto& line : virtualdomains) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    vdoms.insert_or_assign(lowercase(std::string_view(line).substr(0, colon)),
                           lowercase(std::string_view(line).substr(colon + 1)));
  }
  for (const auto& [key, prepend] : vdoms) {
    if (key.find('@') != std::string::npos) continue;
    if (local_set.count(key)) continue;  // locals come first
    if (prepend.empty()) {
      r[{"@" + key, kDomain}] = kException;
      continue;
    }
    r[{"@" + key, kDomain}] = kVirtual;
    project(key, prepend + "-");
  }
  // Whole-address lines come before every domain key of their domain.
  for (const auto& [key, prepend] : vdoms) {
    size_t at = key.rfind('@');
    if (at == std::string::npos || local_set.count(key.substr(at + 1))) continue;
    char v = kRemote;
    if (!prepend.empty()) v = table.deliverable(prepend + "-" + key.substr(0, at)) ? kYes : kNo;
    r[{key, kExact}] = v;
  }
  return r;
}

Status build(const Sources& sources) {
  auto table = local_table(sources);
  if (!table) return table.error();
  Control control(sources.home + "/control");
  std::vector<std::string> locals;
  auto have = control.exists("locals");
  if (!have) return have.error();
  if (*have) {
    auto l = control.lines("locals");
    if (!l) return l.error();
    locals = std::move(*l);
  } else {  // qmail-send: locals defaults to me
    auto me = control.line("me");
    if (!me) return me.error();
    if (*me) locals.push_back(**me);
  }
  auto vdoms = control.lines("virtualdomains");
  if (!vdoms) return vdoms.error();

  Records records = db_records(*table, locals, *vdoms);
  auto w = CdbWriter::create(sources.home + "/" + kRecipientsDb, 0644);
  if (!w) return w.error();
  for (const auto& [k, v] : records) {
    const char data[2] = {k.second, v};
    if (auto st = w->add(k.first, std::string_view(data, 2)); !st) return st;
  }
  return w->finish();
}

}  // namespace recipients

Status build_recipients_db(const std::string& home) {
  return recipients::build(recipients::sources_for(home));
}

Result<RecipientsDb> RecipientsDb::open(const std::string& home) {
  auto cdb = CdbReader::open(home + "/" + kRecipientsDb);
  if (!cdb) return cdb.error();
  Control control(home + "/control");
  auto envnoathost = control.line_or("envnoathost", true, "envnoathost");
  if (!envnoathost) return envnoathost.error();
  auto percenthack = control.lines("percenthack");
  if (!percenthack) return percenthack.error();
  return from(std::move(*cdb), std::move(*envnoathost), std::move(*percenthack));
}

RecipientsDb RecipientsDb::from(CdbReader cdb, std::string envnoathost,
                                std::vector<std::string> percenthack) {
  for (auto& p : percenthack) p = lowercase(p);
  return RecipientsDb(std::move(cdb), std::move(envnoathost), std::move(percenthack));
}

Result<std::optional<std::string>> RecipientsDb::record(const std::string& key, char type) const {
  auto all = cdb_.find_all(key);
  if (!all) return all.error();
  for (auto& d : *all)
    if (d.size() == 2 && d[0] == type) return std::optional<std::string>(d.substr(1));
  return std::optional<std::string>();
}

Result<RcptVerdict> RecipientsDb::check(std::string_view address) const {
  // qmail-send's rewriting before routing: envnoathost, then percenthack.
  std::string a(address);
  if (a.rfind('@') == std::string::npos) a += "@" + envnoathost_;
  for (;;) {
    size_t at = a.rfind('@');
    std::string domain = lowercase(std::string_view(a).substr(at + 1));
    if (std::find(percenthack_.begin(), percenthack_.end(), domain) == percenthack_.end()) break;
    size_t pct = std::string_view(a).substr(0, at).rfind('%');
    if (pct == std::string_view::npos) break;
    a.resize(at);
    a[pct] = '@';
  }
  a = lowercase(a);
  size_t at = a.rfind('@');
  std::string local = a.substr(0, at);
  std::string domain = a.substr(at + 1);

  auto decide = [](char v) {
    if (v == kYes) return RcptVerdict::kDeliverable;
    if (v == kRemote) return RcptVerdict::kNotOurs;
    return RcptVerdict::kUnknown;
  };
  auto exact = record(a, kExact);
  if (!exact) return exact.error();
  if (*exact) return decide((**exact)[0]);

  // The domain keys in qmail-send's order: the domain, each ".suffix"
  // (longest first), the catch-all "".
  std::vector<std::string> keys{domain};
  for (size_t i = 0; i < domain.size(); ++i)
    if (domain[i] == '.') keys.push_back(domain.substr(i));
  if (!domain.empty()) keys.emplace_back();
  for (const auto& k : keys) {
    auto marker = record("@" + k, kDomain);
    if (!marker) return marker.error();
    if (!*marker) continue;
    if ((**marker)[0] == kException) return RcptVerdict::kNotOurs;
    if (k != domain) {
      auto e = record(local + "@" + k, kExact);
      if (!e) return e.error();
      if (*e) return decide((**e)[0]);
    }
    if (local.empty()) return RcptVerdict::kDeliverable;  // lspawn: nothing to do
    for (size_t len = local.size() + 1; len-- > 0;) {
      auto w = record(local.substr(0, len) + "*@" + k, kWild);
      if (!w) return w.error();
      if (*w) return decide((**w)[0]);
    }
    return RcptVerdict::kUnknown;
  }
  return RcptVerdict::kNotOurs;
}

}  // namespace qng
