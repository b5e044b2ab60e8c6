#pragma once

// A throwaway database with the control plane migrated and one org, plus builders of the
// ObjectSchema and RecordChange messages the writer tests feed in.

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

namespace sfbridge::writer {

inline constexpr const char* kOrg = "00D000000000001AAA";
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

inline v1::FieldValue Text(const std::string& v) {
  v1::FieldValue f;
  f.set_text(v);
  return f;
}
inline v1::FieldValue Number(const std::string& v) {
  v1::FieldValue f;
  f.set_number(v);
  return f;
}
inline v1::FieldValue Bool(bool v) {
  v1::FieldValue f;
  f.set_boolean(v);
  return f;
}
inline v1::FieldValue Null() {
  v1::FieldValue f;
  f.set_null(true);
  return f;
}

inline v1::RecordChange Change(const std::string& object, const std::string& id,
                               int64_t modstamp_ms,
                               std::vector<std::pair<std::string, v1::FieldValue>> fields = {}) {
  v1::RecordChange c;
  c.set_org_id(kOrg);
  c.set_object_name(object);
  c.set_record_id(id);
  c.set_system_modstamp_ms(modstamp_ms);
  for (auto& [name, value] : fields) (*c.mutable_fields())[name] = value;
  return c;
}

inline v1::RecordChange Deletion(const std::string& object, const std::string& id,
                                 int64_t modstamp_ms) {
  v1::RecordChange c = Change(object, id, modstamp_ms);
  c.set_deleted(true);
  return c;
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
