#pragma once

// The synced table Invoice__c as the write path's unit tests see it: a read-only auto-number
// Name, a picklist, a formula, a createable-only field, an external id, a currency, and the
// system fields.

#include "proxy/writes/catalog.h"

namespace sfbridge::proxy::writes::testing {

inline SyncedTable Invoice() {
  SyncedTable t{.schema = "salesforce", .table = "invoice__c", .object = "Invoice__c"};
  t.fields = {
      {.field = "Id", .column = "id", .column_type = "text", .salesforce_type = "id"},
      {.field = "Name",
       .column = "name",
       .column_type = "text",
       .salesforce_type = "string",
       .createable = false,
       .updateable = false},
      {.field = "Status__c",
       .column = "status__c",
       .column_type = "text",
       .salesforce_type = "picklist",
       .createable = true,
       .updateable = true},
      {.field = "Total__c",
       .column = "total__c",
       .column_type = "numeric",
       .salesforce_type = "currency",
       .createable = false,
       .updateable = false,
       .calculated = true},
      {.field = "Code__c",
       .column = "code__c",
       .column_type = "text",
       .salesforce_type = "string",
       .createable = true,
       .updateable = false},
      {.field = "Legacy__c",
       .column = "legacy__c",
       .column_type = "text",
       .salesforce_type = "string",
       .external_id = true},
      {.field = "Amount__c",
       .column = "amount__c",
       .column_type = "numeric",
       .salesforce_type = "currency"},
      {.field = "SystemModstamp",
       .column = "system_modstamp",
       .column_type = "timestamp with time zone",
       .salesforce_type = "datetime"},
      {.field = "CreatedDate",
       .column = "created_date",
       .column_type = "timestamp with time zone",
       .salesforce_type = "datetime"},
  };
  return t;
}

}  // namespace sfbridge::proxy::writes::testing
