#include "cli/verify.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_keys.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/mapping/datetime.h"
#include "common/postgres/connection.h"
#include "common/salesforce/client.h"
#include "common/salesforce/poco_transport.h"

namespace sfbridge::cli {
namespace {

using core::StrCat;
using IdStamps = std::map<std::string, int64_t>;

constexpr int kExamples = 5;
constexpr int kPageSize = 2000;
constexpr size_t kIdsPerQuery = 200;

// Where the source records come from.
class Source {
 public:
  virtual ~Source() = default;
  // Every record (not deleted) of `object`: Id -> SystemModstamp in ms.
  virtual absl::StatusOr<IdStamps> All(const std::string& object) = 0;
  // The current stamps of `ids` (those that no longer exist are absent).
  virtual absl::StatusOr<IdStamps> Some(const std::string& object,
                                        const std::vector<std::string>& ids) = 0;
};

class SfsimSource : public Source {
 public:
  SfsimSource(std::string base_url, std::unique_ptr<salesforce::PocoTransport> transport)
      : base_url_(std::move(base_url)), transport_(std::move(transport)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  }

  absl::StatusOr<IdStamps> All(const std::string& object) override {
    salesforce::HttpRequest request;
    request.url = StrCat(base_url_, "/__sfsim/digest/", object, "?includeDeleted=false");
    absl::StatusOr<salesforce::HttpResponse> reply = transport_->Send(request);
    if (!reply.ok()) return reply.status();
    if (reply->status != 200) {
      return absl::FailedPreconditionError(StrCat("GET ", request.url, ": HTTP ", reply->status,
                                                  " (is sfsim's admin API enabled?)"));
    }
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::object records;
    if (parser.parse(reply->body).get(doc) || doc["records"].get_object().get(records)) {
      return absl::InternalError(StrCat("GET ", request.url, ": not a digest reply"));
    }
    IdStamps out;
    for (auto field : records) {
      int64_t stamp = 0;
      if (field.value.get_int64().get(stamp)) {
        return absl::InternalError(StrCat("GET ", request.url, ": a stamp is not an integer"));
      }
      out.emplace(std::string(field.key), stamp);
    }
    return out;
  }

  absl::StatusOr<IdStamps> Some(const std::string& object,
                                const std::vector<std::string>& ids) override {
    absl::StatusOr<IdStamps> all = All(object);
    if (!all.ok()) return all.status();
    IdStamps out;
    for (const std::string& id : ids) {
      if (auto it = all->find(id); it != all->end()) out.insert(*it);
    }
    return out;
  }

 private:
  std::string base_url_;
  std::unique_ptr<salesforce::PocoTransport> transport_;
};

std::string SoqlQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

class SalesforceSource : public Source {
 public:
  SalesforceSource(std::unique_ptr<salesforce::PocoTransport> transport,
                   salesforce::ClientOptions options)
      : transport_(std::move(transport)),
        client_(std::move(options), *transport_, core::SystemClock::Instance()) {}

  absl::Status Authenticate() { return client_.Authenticate(); }

  // Keyset paging on Id, so that no query locator has to stay open over a long read.
  absl::StatusOr<IdStamps> All(const std::string& object) override {
    IdStamps out;
    std::string after;
    while (true) {
      std::string soql = StrCat("SELECT Id, SystemModstamp FROM ", object);
      if (!after.empty()) soql += StrCat(" WHERE Id > ", SoqlQuote(after));
      soql += StrCat(" ORDER BY Id LIMIT ", kPageSize);
      absl::StatusOr<salesforce::QueryPage> page = client_.Query(soql);
      if (!page.ok()) return page.status();
      if (absl::Status s = Add(*page, out); !s.ok()) return s;
      if (page->records.size() < static_cast<size_t>(kPageSize)) break;
      after = page->records.back().id;
      if (after.empty()) return absl::InternalError("a query reply without Id");
    }
    return out;
  }

  absl::StatusOr<IdStamps> Some(const std::string& object,
                                const std::vector<std::string>& ids) override {
    IdStamps out;
    for (size_t i = 0; i < ids.size(); i += kIdsPerQuery) {
      std::string list;
      for (size_t j = i; j < std::min(ids.size(), i + kIdsPerQuery); ++j) {
        if (!list.empty()) list += ",";
        list += SoqlQuote(ids[j]);
      }
      absl::StatusOr<salesforce::QueryPage> page = client_.Query(
          StrCat("SELECT Id, SystemModstamp FROM ", object, " WHERE Id IN (", list, ")"));
      if (!page.ok()) return page.status();
      if (absl::Status s = Add(*page, out); !s.ok()) return s;
      std::string next = page->done ? "" : page->next_records_url;
      while (!next.empty()) {
        absl::StatusOr<salesforce::QueryPage> more = client_.QueryMore(next);
        if (!more.ok()) return more.status();
        if (absl::Status s = Add(*more, out); !s.ok()) return s;
        next = more->done ? "" : more->next_records_url;
      }
    }
    return out;
  }

 private:
  static absl::Status Add(const salesforce::QueryPage& page, IdStamps& out) {
    for (const salesforce::Record& r : page.records) {
      const salesforce::FieldValue* stamp = r.Find("SystemModstamp");
      std::optional<int64_t> ms;
      if (stamp != nullptr) ms = mapping::ParseDateTimeMillis(stamp->text);
      if (r.id.empty() || !ms) {
        return absl::InternalError("a query reply record without Id or SystemModstamp");
      }
      out[r.id] = *ms;
    }
    return absl::OkStatus();
  }

  std::unique_ptr<salesforce::PocoTransport> transport_;
  salesforce::Client client_;
};

struct Difference {
  int64_t rows = 0, source = 0;
  std::vector<std::string> missing, extra, older, newer;  // newer: the table is ahead
  bool no_table = false;

  int64_t Count() const { return missing.size() + extra.size() + older.size() + newer.size(); }
  std::vector<std::string> Ids() const {
    std::vector<std::string> ids = missing;
    for (const auto* v : {&extra, &older, &newer}) ids.insert(ids.end(), v->begin(), v->end());
    return ids;
  }
};

Difference Compare(const IdStamps& table, const IdStamps& source) {
  Difference d;
  d.rows = table.size();
  d.source = source.size();
  for (const auto& [id, stamp] : source) {
    auto it = table.find(id);
    if (it == table.end()) {
      d.missing.push_back(id);
    } else if (it->second < stamp) {
      d.older.push_back(id);
    } else if (it->second > stamp) {
      d.newer.push_back(id);
    }
  }
  for (const auto& [id, stamp] : table) {
    if (!source.contains(id)) d.extra.push_back(id);
  }
  return d;
}

// `name` as a quoted SQL identifier.
std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

// A Postgres text[] literal of `ids`.
std::string ArrayLiteral(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"";
    for (char c : ids[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out += "\"";
  }
  return out + "}";
}

class TableReader {
 public:
  TableReader(postgres::Connection& conn, std::string org_id)
      : conn_(conn), org_id_(std::move(org_id)) {}

  // The table's name, quoted; nullopt when the writer never created one for `object`.
  absl::StatusOr<std::optional<std::string>> Table(const std::string& object) {
    absl::StatusOr<postgres::QueryResult> r = conn_.Exec(
        "SELECT schema_name, table_name FROM sfbridge.synced_tables "
        "WHERE org_id = $1 AND object_name = $2",
        {org_id_, object});
    if (!r.ok()) return r.status();
    if (r->rows.empty()) return std::optional<std::string>();
    return std::optional<std::string>(
        StrCat(QuoteIdent(*r->rows[0][0]), ".", QuoteIdent(*r->rows[0][1])));
  }

  absl::StatusOr<IdStamps> Read(const std::string& table,
                                const std::vector<std::string>* only = nullptr) {
    std::string sql = StrCat("SELECT id, _modstamp_ms FROM ", table);
    postgres::Params params;
    if (only != nullptr) {
      sql += " WHERE id = ANY($1::text[])";
      params.push_back(ArrayLiteral(*only));
    }
    absl::StatusOr<postgres::QueryResult> r = conn_.Exec(sql, params);
    if (!r.ok()) return r.status();
    IdStamps out;
    for (const auto& row : r->rows) out[*row[0]] = row[1] ? std::stoll(*row[1]) : 0;
    return out;
  }

 private:
  postgres::Connection& conn_;
  std::string org_id_;
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

void PrintExamples(std::ostream& out, std::string_view kind, const std::vector<std::string>& ids,
                   const IdStamps* table = nullptr, const IdStamps* source = nullptr) {
  if (ids.empty()) return;
  out << "    " << kind << ":";
  for (size_t i = 0; i < ids.size() && i < kExamples; ++i) {
    out << " " << ids[i];
    if (table != nullptr && source != nullptr) {
      out << " (table=" << table->at(ids[i]) << " source=" << source->at(ids[i]) << ")";
    }
  }
  if (ids.size() > kExamples) out << " ... (" << ids.size() - kExamples << " more)";
  out << "\n";
}

absl::StatusOr<std::unique_ptr<Source>> MakeSource(const core::Config& c) {
  if (c.IsSet("sfsim.url") && !c.GetString("sfsim.url").empty()) {
    absl::StatusOr<std::unique_ptr<salesforce::PocoTransport>> transport =
        salesforce::PocoTransport::Create({});
    if (!transport.ok()) return transport.status();
    return std::make_unique<SfsimSource>(c.GetString("sfsim.url"), *std::move(transport));
  }
  salesforce::ClientOptions o;
  salesforce::Credentials& cr = o.credentials;
  const std::string& flow = c.GetString("salesforce.auth");
  cr.flow = flow == "client_credentials" ? salesforce::AuthFlow::kClientCredentials
                                         : salesforce::AuthFlow::kPassword;
  if (flow != "password" && flow != "client_credentials") {
    return absl::InvalidArgumentError(
        StrCat("salesforce.auth: verify supports password and client_credentials, not ", flow));
  }
  cr.login_url = c.GetString("salesforce.login-url");
  cr.client_id = c.GetString("salesforce.client-id");
  cr.client_secret = c.GetString("salesforce.client-secret");
  cr.username = c.GetString("salesforce.username");
  cr.password = c.GetString("salesforce.password");
  if (cr.client_id.empty()) {
    return absl::InvalidArgumentError(
        "give --sfsim.url, or salesforce.client-id and the other Salesforce credentials");
  }
  if (cr.flow == salesforce::AuthFlow::kPassword && (cr.username.empty() || cr.password.empty())) {
    return absl::InvalidArgumentError(
        "salesforce.username and salesforce.password are required by the password flow");
  }
  o.api_version = c.GetString("salesforce.api-version");
  absl::StatusOr<std::unique_ptr<salesforce::PocoTransport>> transport =
      salesforce::PocoTransport::Create({.extra_ca_file = c.GetString("salesforce.ca-file")});
  if (!transport.ok()) return transport.status();
  auto source = std::make_unique<SalesforceSource>(*std::move(transport), std::move(o));
  if (absl::Status s = source->Authenticate(); !s.ok()) return s;
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace

void AddVerifyKeys(core::ConfigSchema& schema) {
  schema.Add(PostgresUrlKey())
      .Add({.name = "org.id", .help = "The org whose synced tables to check.", .required = true})
      .Add({.name = "objects",
            .help = "Comma-separated API names to check; empty: every object of the org in "
                    "sfbridge.objects."})
      .Add({.name = "settle",
            .type = core::ConfigType::kInt,
            .help = "Seconds to keep re-checking differing ids (the source keeps changing; the "
                    "comparison is a snapshot) before reporting them.",
            .default_value = "0",
            .min = 0})
      .Add({.name = "sfsim.url",
            .help = "Base URL of an sfsim whose admin digest is the source (no credentials "
                    "needed); empty: query the real org with the salesforce.* settings."})
      .Add({.name = "salesforce.login-url",
            .help = "OAuth login host",
            .default_value = "https://login.salesforce.com"})
      .Add({.name = "salesforce.auth",
            .help = "OAuth flow",
            .default_value = "password",
            .choices = {"password", "client_credentials"}})
      .Add({.name = "salesforce.client-id", .help = "Connected app consumer key"})
      .Add({.name = "salesforce.client-secret",
            .help = "Connected app consumer secret",
            .secret = true})
      .Add({.name = "salesforce.username", .help = "User name (password flow)"})
      .Add({.name = "salesforce.password",
            .help = "Password followed by the security token (password flow)",
            .secret = true})
      .Add({.name = "salesforce.api-version", .help = "REST API version", .default_value = "59.0"})
      .Add({.name = "salesforce.ca-file", .help = "Extra trusted CA certificates (PEM)"});
}

absl::Status RunVerify(const core::Config& config, std::ostream& out) {
  const std::string& org_id = config.GetString("org.id");
  absl::StatusOr<std::unique_ptr<postgres::Connection>> pg =
      postgres::Connection::Connect(config.GetString("postgres.url"));
  if (!pg.ok()) return pg.status();
  postgres::Connection& conn = **pg;

  if (absl::StatusOr<control::OrgSettings> org = control::LoadOrg(conn, org_id); !org.ok()) {
    if (org.status().code() == absl::StatusCode::kNotFound) {
      return absl::InvalidArgumentError(StrCat("org.id: no org '", org_id, "' in sfbridge.orgs"));
    }
    return org.status();
  }
  std::vector<std::string> objects = SplitList(config.GetString("objects"));
  if (objects.empty()) {
    absl::StatusOr<std::vector<control::ObjectStatus>> rows = control::LoadObjects(conn, org_id);
    if (!rows.ok()) return rows.status();
    for (const auto& o : *rows) {
      if (o.state != control::ObjectState::kDisabled) objects.push_back(o.object_name);
    }
    if (objects.empty()) {
      return absl::InvalidArgumentError(StrCat(
          "org '", org_id, "' has no objects in sfbridge.objects; name them with --objects"));
    }
  }
  absl::StatusOr<std::unique_ptr<Source>> source = MakeSource(config);
  if (!source.ok()) return source.status();

  TableReader reader(conn, org_id);
  const auto settle = std::chrono::seconds(config.GetInt("settle"));
  size_t width = 6;
  for (const auto& o : objects) width = std::max(width, o.size() + 2);
  Difference total;
  for (const std::string& object : objects) {
    absl::StatusOr<std::optional<std::string>> table = reader.Table(object);
    if (!table.ok()) return table.status();
    IdStamps stored;
    if (*table) {
      absl::StatusOr<IdStamps> rows = reader.Read(**table);
      if (!rows.ok()) return rows.status();
      stored = *std::move(rows);
    }
    absl::StatusOr<IdStamps> src = (*source)->All(object);
    if (!src.ok()) return src.status();
    Difference d = Compare(stored, *src);

    // Re-checks only the ids that differ, until they agree or the time is up.
    const auto give_up = std::chrono::steady_clock::now() + settle;
    while (d.Count() > 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      std::vector<std::string> ids = d.Ids();
      absl::StatusOr<IdStamps> fresh_source = (*source)->Some(object, ids);
      if (!fresh_source.ok()) return fresh_source.status();
      if (!*table) {
        absl::StatusOr<std::optional<std::string>> t = reader.Table(object);
        if (!t.ok()) return t.status();
        table = *t;
      }
      IdStamps fresh_rows;
      if (*table) {
        absl::StatusOr<IdStamps> r = reader.Read(**table, &ids);
        if (!r.ok()) return r.status();
        fresh_rows = *std::move(r);
      }
      for (const std::string& id : ids) {
        src->erase(id);
        stored.erase(id);
      }
      src->insert(fresh_source->begin(), fresh_source->end());
      stored.insert(fresh_rows.begin(), fresh_rows.end());
      d = Compare(stored, *src);
    }

    std::string name = object;
    name.resize(width, ' ');
    out << name << "rows=" << d.rows << " source=" << d.source << " missing=" << d.missing.size()
        << " extra=" << d.extra.size() << " stale=" << d.older.size() + d.newer.size();
    if (!d.newer.empty()) {
      out << " (older=" << d.older.size() << " newer=" << d.newer.size() << ")";
    }
    if (!*table) out << "  (no synced table)";
    out << "\n";
    PrintExamples(out, "missing", d.missing);
    PrintExamples(out, "extra", d.extra);
    PrintExamples(out, "stale, table older", d.older, &stored, &*src);
    PrintExamples(out, "stale, table newer", d.newer, &stored, &*src);
    total.rows += d.rows;
    total.source += d.source;
    for (auto [to, from] : {std::pair{&total.missing, &d.missing},
                            {&total.extra, &d.extra},
                            {&total.older, &d.older},
                            {&total.newer, &d.newer}}) {
      to->insert(to->end(), from->begin(), from->end());
    }
  }
  std::string name = "total";
  name.resize(width, ' ');
  out << name << "rows=" << total.rows << " source=" << total.source
      << " missing=" << total.missing.size() << " extra=" << total.extra.size()
      << " stale=" << total.older.size() + total.newer.size() << "\n";
  out << "(a snapshot: the source may have changed while the tables were read"
      << (settle.count() > 0 ? StrCat("; differing ids re-checked for up to ", settle.count(), " s")
                             : "; --settle=N re-checks differing ids for N seconds")
      << ")\n";
  out.flush();
  if (total.Count() > 0) {
    return absl::FailedPreconditionError(
        StrCat("the synced tables differ from the source in ", total.Count(), " records"));
  }
  return absl::OkStatus();
}

}  // namespace sfbridge::cli
