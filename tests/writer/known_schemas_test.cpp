// Which records wait for a schema (known_schemas.h): unknown objects and fields, fingerprints
// that vouch for a change, names given up and waited for again once a newer schema arrives.

#include "writer/known_schemas.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace sfbridge::writer {
namespace {

v1::ObjectSchema Schema(const std::string& name, const std::string& fingerprint,
                        const std::vector<std::string>& fields) {
  v1::ObjectSchema s;
  s.set_name(name);
  s.set_fingerprint(fingerprint);
  for (const std::string& f : fields) s.add_fields()->set_name(f);
  return s;
}

class KnownSchemasTest : public ::testing::Test {
 protected:
  // Views of changes of (object, fingerprint, fields), valid while the test runs.
  const std::vector<ChangeView>& Changes(
      const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>& specs) {
    changes_.clear();
    for (const auto& [object, fingerprint, fields] : specs) {
      v1::RecordChange& c = changes_.emplace_back();
      c.set_object_name(object);
      c.set_schema_fingerprint(fingerprint);
      for (const std::string& f : fields) (*c.mutable_fields())[f].set_text("x");
    }
    std::vector<const v1::RecordChange*> pointers;
    for (const v1::RecordChange& c : changes_) pointers.push_back(&c);
    store_.clear();
    views_ = ViewsOf(pointers, store_);
    return views_;
  }
  std::set<std::string> Missing(
      const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>& specs,
      bool all = true) {
    return known_.Missing(Changes(specs), all);
  }

  KnownSchemas known_;
  std::vector<v1::RecordChange> changes_;
  std::vector<FieldEntry> store_;
  std::vector<ChangeView> views_;
};

TEST_F(KnownSchemasTest, UnknownObjectsAndFieldsAreMissingIdNever) {
  known_.Add(Schema("Account", "a1", {"Id", "Name"}));
  EXPECT_EQ(Missing({{"Account", "", {"Id", "Name"}}}), std::set<std::string>{});
  EXPECT_EQ(Missing({{"Account", "", {"Id", "Name", "Color__c"}},
                     {"Contact", "", {"Name"}},
                     {"Account", "", {"Size__c"}}}),
            (std::set<std::string>{"Account.Color__c", "Account.Size__c", "Contact"}));
  // Not all: the first change that needs anything is enough.
  EXPECT_EQ(Missing({{"Contact", "", {}}, {"Lead", "", {}}}, /*all=*/false),
            std::set<std::string>{"Contact"});
}

TEST_F(KnownSchemasTest, AReceivedFingerprintVouchesForEveryFieldOfTheChange) {
  known_.Add(Schema("Account", "a1", {"Id", "Name"}));
  known_.Add(Schema("Account", "a2", {"Id", "Name", "Color__c"}));
  // Read with a1 but holding a field only a newer schema has: still fine, a1 was received.
  EXPECT_TRUE(Missing({{"Account", "a1", {"Name", "Anything__c"}}}).empty());
  EXPECT_EQ(Missing({{"Account", "a3", {"Name", "Other__c"}}}),
            std::set<std::string>{"Account.Other__c"});
}

TEST_F(KnownSchemasTest, RemovedFieldsStayKnown) {
  known_.Add(Schema("Account", "a1", {"Id", "Name", "Fax"}));
  known_.Add(Schema("Account", "a2", {"Id", "Name"}));
  EXPECT_TRUE(Missing({{"Account", "", {"Fax"}}}).empty());
}

TEST_F(KnownSchemasTest, GivenUpNamesAreNotWaitedForUntilTheirObjectsNextSchema) {
  known_.Add(Schema("Account", "a1", {"Id", "Name"}));
  known_.GiveUp("Account.Color__c");
  known_.GiveUp("Lead");
  EXPECT_TRUE(Missing({{"Account", "", {"Color__c"}}, {"Lead", "", {}}}).empty());
  known_.Add(Schema("Account", "a2", {"Id", "Name"}));  // still no Color__c
  EXPECT_EQ(Missing({{"Account", "", {"Color__c"}}, {"Lead", "", {}}}),
            std::set<std::string>{"Account.Color__c"});
}

TEST_F(KnownSchemasTest, UnchangedIsTheSameFingerprintAndFieldCount) {
  EXPECT_FALSE(known_.Unchanged(Schema("Account", "a1", {"Id"})));
  known_.Add(Schema("Account", "a1", {"Id"}));
  EXPECT_TRUE(known_.Unchanged(Schema("Account", "a1", {"Id"})));
  EXPECT_FALSE(known_.Unchanged(Schema("Account", "a1", {"Id", "Name"})));
  EXPECT_FALSE(known_.Unchanged(Schema("Account", "a2", {"Id"})));
}

}  // namespace
}  // namespace sfbridge::writer
