#pragma once

// A throwaway database with the control plane migrated and one org, plus a builder of the
// ObjectSchema messages the writer tests feed in (RecordChange builders: record_builders.h).

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/control/migrations.h"
#include "common/control/org_settings.h"
#include "common/postgres/connection.h"
#include "sfbridge/v1/record.pb.h"
#include "sfbridge/v1/schema.pb.h"
#include "tests/harness/test_env.h"
#include "tests/writer/record_builders.h"

namespace sfbridge::writer {

inline constexpr const char* kSchema = "salesforce";

// {"Name", "string"} ... ; "Id" (type id) comes first on its own.
inline v1::ObjectSchema MakeSchema(const std::string& name,
                                   std::vector<std::pair<std::string, std::string>> fields) {
  v1::ObjectSchema s;
  s.set_org_id(kOrg);
  s.set_name(name);
  s.set_fingerprint(name + std::to_string(fields.size()));
  auto* id = s.add_fields();
  id->set_name("Id");
  id->set_type("id");
  for (const auto& [field, type] : fields) {
    auto* f = s.add_fields();
    f->set_name(field);
    f->set_type(type);
  }
  return s;
}

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = postgres::Connection::Connect(db_.url());
    ASSERT_TRUE(c.ok()) << c.status();
    conn_ = *std::move(c);
    absl::Status migrated = control::Migrate(*conn_);
    ASSERT_TRUE(migrated.ok()) << migrated;
    control::OrgSettings org;
    org.org_id = kOrg;
    org.display_name = "Test org";
    absl::Status s = control::UpsertOrg(*conn_, org);
    ASSERT_TRUE(s.ok()) << s;
  }

  // The first column of the first row as text; "<null>" for NULL, "<none>" for no row.
  std::string Scalar(const std::string& sql, const postgres::Params& params = {}) {
    auto r = conn_->Exec(sql, params);
    EXPECT_TRUE(r.ok()) << r.status() << " in " << sql;
    if (!r.ok() || r->rows.empty()) return "<none>";
    return r->rows[0][0] ? *r->rows[0][0] : "<null>";
  }

  // Every row of `sql`, NULLs as "<null>".
  std::vector<std::vector<std::string>> Rows(const std::string& sql,
                                             const postgres::Params& params = {}) {
    auto r = conn_->Exec(sql, params);
    EXPECT_TRUE(r.ok()) << r.status() << " in " << sql;
    std::vector<std::vector<std::string>> out;
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::vector<std::string> values;
      for (const auto& v : row) values.push_back(v ? *v : "<null>");
      out.push_back(std::move(values));
    }
    return out;
  }

  testing::TempDatabase db_;
  std::unique_ptr<postgres::Connection> conn_;
};

}  // namespace sfbridge::writer
