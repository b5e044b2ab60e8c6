// Knex (with the pg driver) writing to synced tables through sfbridge-proxy, as an application
// would.
//
// Usage: node knex_client.js URL TAG FLOW   (knex and pg from NODE_PATH)
//
// Knex's debug output shows every query it sends. Each FLOW is one scenario; what Knex itself
// reports is asserted here, what reached Salesforce and the tables is checked by proxy_orm_test
// from the JSON on the last line.
'use strict';

const assert = require('node:assert/strict');
const knexFactory = require('knex');

const [url, tag, flow] = process.argv.slice(2);
const knex = knexFactory({ client: 'pg', connection: url, debug: true, pool: { min: 0, max: 2 } });
const accounts = () => knex('account').withSchema('salesforce');
const out = { flow };

const isSalesforceId = (value, prefix) =>
  typeof value === 'string' && value.length === 18 && value.startsWith(prefix);

const flows = {
  // INSERT … RETURNING, one row and several.
  async insert_returning() {
    const [one] = await accounts()
      .insert({ name: `${tag} one`, account_number: `${tag}-1`, number_of_employees: 7 })
      .returning(['id', 'name', 'number_of_employees', 'owner_id', 'created_date', '_synced_at']);
    assert.ok(isSalesforceId(one.id, '001'), one.id);
    assert.equal(one.name, `${tag} one`);
    assert.equal(one.number_of_employees, 7);
    assert.ok(isSalesforceId(one.owner_id, '005'), one.owner_id);
    assert.ok(one.created_date instanceof Date, String(one.created_date));
    assert.ok(one._synced_at instanceof Date, String(one._synced_at));
    out.account = one.id;

    const many = await accounts()
      .insert([2, 3].map((i) => ({ name: `${tag} ${i}`, account_number: `${tag}-${i}` })))
      .returning('*');
    assert.equal(many.length, 2);
    assert.deepEqual(many.map((r) => r.account_number), [`${tag}-2`, `${tag}-3`]);
    for (const r of many) assert.ok(isSalesforceId(r.id, '001'), r.id);
    out.accounts = many.map((r) => r.id);
  },

  // UPDATE: the count, then with RETURNING.
  async update() {
    const [{ id }] = await accounts()
      .insert({ name: `${tag} update`, account_number: `${tag}-u` })
      .returning('id');
    out.account = id;
    const n = await accounts().where({ id }).update({ rating: 'Hot', number_of_employees: 42 });
    assert.equal(n, 1);
    const [row] = await accounts()
      .where('account_number', `${tag}-u`)
      .update({ billing_city: 'Lyon' }, ['id', 'billing_city', 'rating', 'system_modstamp']);
    assert.deepEqual([row.id, row.billing_city, row.rating], [id, 'Lyon', 'Hot']);
    assert.ok(row.system_modstamp instanceof Date, String(row.system_modstamp));
    const read = await accounts().where({ id }).first('rating', 'number_of_employees', 'billing_city');
    assert.deepEqual(read, { rating: 'Hot', number_of_employees: 42, billing_city: 'Lyon' });
  },

  // DELETE: the count, then with RETURNING.
  async delete() {
    const ids = (
      await accounts()
        .insert([1, 2].map((i) => ({ name: `${tag} ${i}`, account_number: `${tag}-${i}` })))
        .returning('id')
    ).map((r) => r.id);
    out.accounts = ids;
    const n = await accounts().where('id', ids[0]).del();
    assert.equal(n, 1);
    const [gone] = await accounts().where('account_number', `${tag}-2`).del(['id', 'name']);
    assert.deepEqual(gone, { id: ids[1], name: `${tag} 2` });
    const left = await accounts().whereIn('id', ids).count({ n: '*' });
    assert.equal(Number(left[0].n), 0);
  },

  // In a transaction: knex.transaction commits both writes.
  async transaction() {
    const id = await knex.transaction(async (trx) => {
      const [{ id }] = await trx('account')
        .withSchema('salesforce')
        .insert({ name: `${tag} trx`, account_number: `${tag}-t` })
        .returning('id');
      await trx('contact')
        .withSchema('salesforce')
        .insert({ last_name: tag, first_name: 'Trx', account_id: id });
      return id;
    });
    assert.ok(isSalesforceId(id, '001'), id);
    out.account = id;
  },

  // Account.Name is required: Salesforce refuses, pg rejects the promise with the SQLSTATE.
  async refused() {
    try {
      await accounts().insert({ account_number: `${tag}-refused` }).returning('id');
      assert.fail('the write without Name was accepted');
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      out.sqlstate = e.code;
      out.error = e.message;
    }
    const left = await accounts().where('account_number', `${tag}-refused`).count({ n: '*' });
    assert.equal(Number(left[0].n), 0);
  },
};

(async () => {
  try {
    await flows[flow]();
    console.log(JSON.stringify(out));
  } catch (e) {
    console.error(e);
    process.exitCode = 1;
  } finally {
    await knex.destroy();
  }
})();
