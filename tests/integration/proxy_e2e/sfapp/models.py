"""Django models over tables sfbridge syncs from Salesforce, as the README describes them.

- managed = False: the writer creates and evolves the tables; Django never migrates them.
- db_table names the schema: '"salesforce"."account"'.
- id: a CharField primary key with db_default, so Django sends DEFAULT for it on INSERT and reads
  the Id Salesforce gave back with RETURNING (Django >= 5.0). owner_id likewise: Salesforce sets
  the running user when none is given.
- Columns only Salesforce or the sync write (system fields, formula fields, _synced_at,
  _modstamp_ms) are GeneratedFields: Django never writes them, reads them back with RETURNING
  after an INSERT, and after an UPDATE refresh_from_db() loads their new values.
- Every other column is nullable (Salesforce stores no empty strings: an empty field is null).
  Custom fields (tier__c) get a name without "__", which Django keeps for lookups, and their
  column in db_column.

The db_default and GeneratedField expressions are never evaluated: without migrations they only
tell Django that the database fills these columns.
"""

from django.db import models

SET_BY_SALESFORCE = models.Value(None)


def set_by_salesforce(output_field):
    """A column only Salesforce or the sync writes."""
    return models.GeneratedField(
        expression=models.Value(None), output_field=output_field, db_persist=True
    )


class SalesforceModel(models.Model):
    id = models.CharField(primary_key=True, max_length=18, db_default=SET_BY_SALESFORCE)
    owner_id = models.CharField(max_length=18, db_default=SET_BY_SALESFORCE)
    is_deleted = set_by_salesforce(models.BooleanField())
    created_date = set_by_salesforce(models.DateTimeField())
    created_by_id = set_by_salesforce(models.CharField(max_length=18))
    last_modified_date = set_by_salesforce(models.DateTimeField())
    last_modified_by_id = set_by_salesforce(models.CharField(max_length=18))
    system_modstamp = set_by_salesforce(models.DateTimeField())
    _synced_at = set_by_salesforce(models.DateTimeField())
    _modstamp_ms = set_by_salesforce(models.BigIntegerField())

    class Meta:
        abstract = True


class Account(SalesforceModel):
    name = models.TextField(null=True)
    account_number = models.TextField(null=True)
    type = models.TextField(null=True)
    industry = models.TextField(null=True)
    rating = models.TextField(null=True)
    phone = models.TextField(null=True)
    fax = models.TextField(null=True)
    website = models.TextField(null=True)
    billing_street = models.TextField(null=True)
    billing_city = models.TextField(null=True)
    billing_state = models.TextField(null=True)
    billing_postal_code = models.TextField(null=True)
    billing_country = models.TextField(null=True)
    billing_latitude = models.DecimalField(max_digits=18, decimal_places=15, null=True)
    billing_longitude = models.DecimalField(max_digits=18, decimal_places=15, null=True)
    annual_revenue = models.DecimalField(max_digits=18, decimal_places=0, null=True)
    number_of_employees = models.IntegerField(null=True)
    ownership = models.TextField(null=True)
    description = models.TextField(null=True)
    tier = models.TextField(db_column="tier__c", null=True)
    customer_since = models.DateField(db_column="customer_since__c", null=True)

    class Meta:
        managed = False
        db_table = '"salesforce"."account"'


class Contact(SalesforceModel):
    account = models.ForeignKey(Account, models.DO_NOTHING, null=True, db_constraint=False)
    last_name = models.TextField(null=True)
    first_name = models.TextField(null=True)
    salutation = models.TextField(null=True)
    name = set_by_salesforce(models.TextField())  # formula: FirstName LastName
    title = models.TextField(null=True)
    department = models.TextField(null=True)
    email = models.TextField(null=True)
    phone = models.TextField(null=True)
    mobile_phone = models.TextField(null=True)
    birthdate = models.DateField(null=True)
    lead_source = models.TextField(null=True)
    has_opted_out_of_email = models.BooleanField(null=True)
    do_not_call = models.BooleanField(null=True)
    description = models.TextField(null=True)
    level = models.TextField(db_column="level__c", null=True)
    legacy_id = models.TextField(db_column="legacy_id__c", null=True)

    class Meta:
        managed = False
        db_table = '"salesforce"."contact"'
