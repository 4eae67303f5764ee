package dev.tandem.sim.erp;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SeedNames;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.SimulatorServer;
import dev.tandem.sim.core.StoreAdmin;
import dev.tandem.sim.erp.ErpServices.Service;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ERP simulator's admin API under {@code /__admin/sim/}: reset, counts, seed, rows read-back, stock and the
 * CRM product ids behind item availability.
 */
final class ErpAdmin {

  private ErpAdmin() {}

  private static SimResponse noWebhooks() {
    return SimResponse.json(404, Map.of("error", Map.of("code", "not_found", "message",
        "webhook subscriptions exist on the bc-online profile only")));
  }

  static void register(ErpSimulator sim, SimulatorServer server) {
    StoreAdmin.register(server, sim.store(), () -> {
      sim.store().reset();
      sim.itemCrmIds().clear();
      sim.resetNumberSeries();
      sim.protection().reset();
      if (sim.webhooks() != null) {
        sim.webhooks().reset();
      }
    }, (seed, counts) -> seed(sim, seed, counts), sim.options().seed(), ErpRows::present);
    // Webhooks (bc-online): delay, lifetime and dropped notifications for tests; what was delivered.
    server.adminRoute("GET", "/sim/webhooks", (r, p) -> sim.webhooks() == null ? noWebhooks()
        : SimResponse.json(200, sim.webhooks().state()));
    server.adminRoute("POST", "/sim/webhooks", (r, p) -> {
      if (sim.webhooks() == null) {
        return noWebhooks();
      }
      sim.webhooks().configure(Json.object(r.bodyText()));
      return SimResponse.json(200, sim.webhooks().state());
    });
    server.adminRoute("POST", "/sim/webhooks/expire", (r, p) -> {
      if (sim.webhooks() == null) {
        return noWebhooks();
      }
      sim.webhooks().expireAll();
      return SimResponse.json(200, sim.webhooks().state());
    });
    // A stock posting: an item ledger entry, as the item journal posts it. {"itemNo","quantity"} posts that
    // quantity; {"itemNo","inventory"} posts the difference to the current inventory (a physical inventory
    // adjustment); {"entries":[...]} posts many at once. Inventory is the entries' sum; the Item keeps its
    // SystemModifiedAt and only its ETag changes.
    server.adminRoute("POST", "/sim/stock", (r, p) -> {
      Map<String, Object> body = Json.object(r.bodyText());
      List<Map<String, Object>> wanted = body.containsKey("entries") ? Json.objects(body.get("entries"))
          : List.of(body);
      try {
        return sim.store().write(() -> {
          List<Map<String, Object>> posted = new ArrayList<>(wanted.size());
          Map<String, Object> item = null;
          for (Map<String, Object> w : wanted) {
            Service is = ErpServices.ALL.get("Item");
            String itemNo = String.valueOf(w.get("itemNo"));
            item = sim.store().table("Item").get(ErpKeys.parse(is, "'" + itemNo.replace("'", "''") + "'"));
            if (item == null) {
              return SimResponse.json(404, Map.of("error", Map.of("code", "not_found", "message",
                  "item " + itemNo + " does not exist")));
            }
            BigDecimal qty;
            if (w.get("quantity") instanceof Number n) {
              qty = new BigDecimal(String.valueOf(n));
            } else if (w.get("inventory") instanceof Number n) {
              qty = new BigDecimal(String.valueOf(n)).subtract(new BigDecimal(String.valueOf(item.get("Inventory"))));
            } else {
              throw new IllegalArgumentException("give quantity (posted as is) or inventory (the difference is "
                  + "posted) as a number, for item " + itemNo);
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("Item_No", item.get("No"));
            entry.put("Quantity", qty);
            entry.put("Entry_Type", w.get("entryType") instanceof String t ? t
                : qty.signum() >= 0 ? "Positive Adjmt." : "Negative Adjmt.");
            entry.put("Document_No", w.get("documentNo") instanceof String d ? d : "SIM-ADJ");
            posted.add(ErpRows.present(sim.ledger().post("ItemLedgerEntries", entry)));
            item = sim.store().table("Item").get(item.get("$key").toString());
          }
          if (wanted.size() == 1) {
            Map<String, Object> out = new LinkedHashMap<>(ErpRows.present(item));
            out.put("entry", posted.get(0));
            return SimResponse.json(200, out);
          }
          return SimResponse.json(200, Map.of("posted", posted.size(), "lastEntryNo",
              posted.isEmpty() ? 0 : posted.get(posted.size() - 1).get("Entry_No")));
        });
      } catch (ErpSimulator.ErpError e) {
        return e.response;
      }
    });
    // A customer ledger entry (an invoice or payment posted): {"customerNo","amount","documentType"}. Balance_LCY is
    // the entries' sum; the Customer keeps its SystemModifiedAt.
    server.adminRoute("POST", "/sim/customer-entries", (r, p) -> {
      Map<String, Object> b = Json.object(r.bodyText());
      if (!(b.get("amount") instanceof Number amount)) {
        throw new IllegalArgumentException("amount must be a number");
      }
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("Customer_No", b.get("customerNo"));
      entry.put("Amount_LCY", new BigDecimal(String.valueOf(amount)));
      entry.put("Document_Type", b.get("documentType") instanceof String t ? t : "Invoice");
      entry.put("Document_No", b.get("documentNo") instanceof String d ? d : "SIM-INV");
      // Optional {"postingDate","dueDate"} (yyyy-mm-dd): an invoice posted earlier, overdue by now.
      if (b.get("postingDate") instanceof String d) {
        entry.put("Posting_Date", java.time.LocalDate.parse(d).toString());
      }
      if (b.get("dueDate") instanceof String d) {
        entry.put("Due_Date", java.time.LocalDate.parse(d).toString());
      }
      try {
        return sim.store().write(() -> SimResponse.json(200, ErpRows.present(sim.ledger().post("CustLedgerEntries",
            entry))));
      } catch (ErpSimulator.ErpError e) {
        return e.response;
      }
    });
    // The web service option "Exclude Non-Editable FlowFields" (from the ETag): {"excludeFlowFields":true}.
    server.adminRoute("POST", "/sim/etag", (r, p) -> {
      if (!(Json.object(r.bodyText()).get("excludeFlowFields") instanceof Boolean exclude)) {
        throw new IllegalArgumentException("excludeFlowFields must be true or false");
      }
      sim.etagExcludesFlowFields(exclude);
      return SimResponse.json(200, Map.of("excludeFlowFields", exclude));
    });
    // Given rows, as the page's insert trigger would store them (defaults, numbering, validation): for tests that
    // need exact values, e.g. records that match or do not match on the other side.
    server.adminRoute("POST", "/sim/rows/{entitySet}", (r, p) -> {
      Service s = ErpSimulator.published(sim.options(), p.get("entitySet"));
      if (s == null) {
        return SimResponse.json(404, Map.of("error", Map.of("code", "not_found", "message",
            "no service " + p.get("entitySet") + "; known: " + ErpServices.ALL.keySet())));
      }
      List<Map<String, Object>> rows = Json.objects(Json.object(r.bodyText()).get("rows"));
      try {
        return sim.store().write(() -> {
          rows.forEach(row -> sim.insert(s, row));
          return SimResponse.json(200, Map.of("inserted", rows.size(), "total", sim.store().table(s.name()).size()));
        });
      } catch (ErpSimulator.ErpError e) {
        return e.response;
      }
    });
    // The cost model and the request limits' counters: GET shows them, POST {"profile":"realistic","timeScale":0.01,
    // "insertMs":...} changes them.
    server.adminRoute("GET", "/sim/costs", (r, p) -> SimResponse.json(200, costsView(sim)));
    server.adminRoute("POST", "/sim/costs", (r, p) -> {
      sim.protection().costs(sim.protection().costs().with(Json.object(r.bodyText())));
      return SimResponse.json(200, costsView(sim));
    });
    // A number series' Manual Nos.: {"service":"Customer","manualNos":false} makes clients' explicit numbers fail.
    server.adminRoute("POST", "/sim/number-series", (r, p) -> {
      Map<String, Object> b = Json.object(r.bodyText());
      if (!(b.get("manualNos") instanceof Boolean allowed)) {
        throw new IllegalArgumentException("manualNos must be true or false");
      }
      sim.writes().manualNumbers(String.valueOf(b.get("service")), allowed);
      return SimResponse.empty(204);
    });
    // bc-online: expire the tokens issued so far, register another client or change the token lifetime.
    server.adminRoute("POST", "/sim/tokens/expire", (r, p) -> {
      if (sim.oauth() == null) {
        throw new IllegalArgumentException("the nav profile issues no tokens");
      }
      sim.oauth().expireAll();
      return SimResponse.empty(204);
    });
    server.adminRoute("POST", "/sim/clients", (r, p) -> {
      if (sim.oauth() == null) {
        throw new IllegalArgumentException("the nav profile has no OAuth clients");
      }
      Map<String, Object> b = Json.object(r.bodyText());
      if (b.get("clientId") instanceof String id && b.get("clientSecret") instanceof String secret) {
        sim.oauth().register(id, secret);
      }
      if (b.get("tokenLifetimeSeconds") instanceof Number n) {
        sim.oauth().lifetime(n.longValue());
      }
      return SimResponse.empty(204);
    });
    server.adminRoute("POST", "/sim/item-crm-ids", (r, p) -> {
      Json.object(r.bodyText()).forEach((item, crm) -> sim.itemCrmIds().put(item, String.valueOf(crm)));
      return SimResponse.json(200, Map.of("items", sim.itemCrmIds().size()));
    });
  }

  private static Map<String, Object> costsView(ErpSimulator sim) {
    Map<String, Object> m = new LinkedHashMap<>(sim.protection().costs().describe());
    m.put("throttled", sim.protection().throttled());
    m.put("limits", Map.of("requestsPer5Minutes", ErpServiceProtection.REQUESTS_PER_WINDOW,
        "processing", ErpServiceProtection.PROCESSING, "connections", ErpServiceProtection.CONNECTIONS,
        "batchOperations", sim.options().batchLimit(), "pageRows", sim.options().maxPageSize()));
    return m;
  }

  /** Seeds deterministic data: the same seed and counts give the same rows (ids and timestamps aside). */
  static void seed(ErpSimulator sim, long seed, Map<String, Integer> counts) {
    SeedNames names = new SeedNames(seed);
    // Every seeded item may bring up to one sales price per price group and an opening ledger entry; the fixed code
    // tables come on top.
    sim.backdateClock(counts.values().stream().mapToLong(Integer::longValue).sum() * 5 + 200);
    try {
      sim.store().write(() -> {
        put(sim, "Currency", Map.of("Code", "EUR", "Description", "Euro", "Symbol", "€", "ISO_Code", "EUR"));
        put(sim, "Currency", Map.of("Code", "USD", "Description", "US dollar", "Symbol", "$", "ISO_Code", "USD"));
        put(sim, "Currency", Map.of("Code", "GBP", "Description", "Pound sterling", "Symbol", "£", "ISO_Code", "GBP"));
        put(sim, "Currency", Map.of("Code", "DKK", "Description", "Danish krone", "Symbol", "kr.", "ISO_Code", "DKK"));
        put(sim, "Currency", Map.of("Code", "SEK", "Description", "Swedish krona", "Symbol", "kr", "ISO_Code", "SEK"));
        // The five named currencies always; a larger Currency count adds numbered ones (X06, ... up to X99).
        for (int i = 6; i <= Math.min(99, counts.getOrDefault("Currency", 5)); i++) {
          String code = String.format("X%02d", i);
          put(sim, "Currency", Map.of("Code", code, "Description", "Currency " + i, "Symbol", "¤", "ISO_Code", code));
        }
        for (String[] u : new String[][] {{"PCS", "Piece", "H87"}, {"BOX", "Box", "BX"}, {"HOUR", "Hour", "HUR"},
            {"KG", "Kilogram", "KGM"}, {"DAY", "Day", "DAY"}}) {
          put(sim, "UnitOfMeasure", Map.of("Code", u[0], "Description", u[1], "International_Standard_Code", u[2]));
        }
        for (String[] t : new String[][] {{"14 DAYS", "Net 14 days", "14D"}, {"30 DAYS", "Net 30 days", "30D"},
            {"CM", "Current month", "CM"}, {"COD", "Cash on delivery", "0D"}}) {
          put(sim, "PaymentTerms", Map.of("Code", t[0], "Description", t[1], "Due_Date_Calculation", t[2]));
        }
        for (String[] t : new String[][] {{"EXW", "Ex works"}, {"CIF", "Cost insurance freight"},
            {"DDP", "Delivered duty paid"}, {"PICKUP", "Pickup at warehouse"}}) {
          put(sim, "ShipmentMethod", Map.of("Code", t[0], "Description", t[1]));
        }
        // Three named price groups, then numbered ones up to the count (default 3); customers and prices use the
        // named ones that exist.
        int priceGroups = counts.getOrDefault("CustomerPriceGroup", 3);
        List<String> named = new ArrayList<>();
        String[][] namedGroups = {{"RETAIL", "Retail"}, {"WHOLESALE", "Wholesale"}, {"EXPORT", "Export"}};
        for (int i = 0; i < priceGroups; i++) {
          if (i < namedGroups.length) {
            put(sim, "CustomerPriceGroup", Map.of("Code", namedGroups[i][0], "Description", namedGroups[i][1]));
            named.add(namedGroups[i][0]);
          } else {
            put(sim, "CustomerPriceGroup", Map.of("Code", "PG" + (i + 1), "Description", "Price group " + (i + 1)));
          }
        }
        for (String[] a : new String[][] {{"DHL", "DHL Express"}, {"FEDEX", "FedEx"}, {"UPS", "UPS"},
            {"OWN LOG.", "Own logistics"}}) {
          put(sim, "ShippingAgent", Map.of("Code", a[0], "Name", a[1]));
        }
        // bc-online: price lists instead of sales prices, per named price group one in the local currency and one
        // in EUR, one for all customers, and a discount and a purchase list the CRM does not get.
        boolean priceLists = ErpSimulator.published(sim.options(), "PriceListLine") != null;
        Map<String, Integer> lineNos = new java.util.HashMap<>();
        for (String g : named) {
          put(sim, "PriceListHeader", priceList("S-" + g, "Sales prices " + g, "Customer Price Group", g, "",
              "Sale", "Price", "2026-01-01", "0001-01-01"));
          put(sim, "PriceListHeader", priceList("S-" + g + "-EUR", "Sales prices " + g + " (EUR)",
              "Customer Price Group", g, "EUR", "Sale", "Price", "2026-01-01", "2026-12-31"));
        }
        put(sim, "PriceListHeader", priceList("S-ALL", "All customers", "All Customers", "", "", "Sale", "Price",
            "2026-01-01", "0001-01-01"));
        // A PriceListHeader count adds numbered sales price lists for all customers.
        for (int i = 1; i <= counts.getOrDefault("PriceListHeader", 0); i++) {
          put(sim, "PriceListHeader", priceList(String.format("S-PL%05d", i), "Price list " + i, "All Customers", "",
              "", "Sale", "Price", "2026-01-01", "0001-01-01"));
        }
        put(sim, "PriceListHeader", priceList("S-DISC", "Line discounts", "All Customers", "", "", "Sale",
            "Discount", "2026-01-01", "0001-01-01"));
        put(sim, "PriceListHeader", priceList("P-VENDORS", "Purchase prices", "All Vendors", "", "", "Purchase",
            "Price", "2026-01-01", "0001-01-01"));
        int salespeople = counts.getOrDefault("SalespersonPurchaser", 10);
        List<String> spCodes = new ArrayList<>();
        for (int i = 1; i <= salespeople; i++) {
          String first = names.firstName();
          String last = names.lastName();
          String code = "SP" + i;
          spCodes.add(code);
          put(sim, "SalespersonPurchaser", Map.of("Code", code, "Name", SeedNames.fit(first + " " + last, 50),
              "E_Mail", names.email(first, last + i, "cronus.example"), "Phone_No", names.phone()));
        }
        String[] currencies = {"", "", "", "EUR", "USD", "GBP"};
        String[] terms = {"14 DAYS", "30 DAYS", "CM", "COD"};
        String[] ship = {"EXW", "CIF", "DDP", "PICKUP"};
        String[] groups = named.toArray(String[]::new);
        int customers = counts.getOrDefault("Customer", 0);
        List<String> customerNos = new ArrayList<>();
        for (int i = 1; i <= customers; i++) {
          int place = names.place();
          String no = "C" + (10000 + i);
          customerNos.add(no);
          Map<String, Object> c = new LinkedHashMap<>();
          c.put("No", no);
          c.put("Name", SeedNames.fit(names.company(i), 100));
          c.put("Address", names.street());
          c.put("City", SeedNames.fit(names.city(place), 30));
          c.put("Post_Code", names.postCode());
          c.put("Country_Region_Code", names.country(place));
          c.put("Phone_No", names.phone());
          c.put("E_Mail", "info" + i + "@customer" + i + ".example");
          c.put("Home_Page", "www.customer" + i + ".example");
          c.put("Salesperson_Code", spCodes.isEmpty() ? "" : spCodes.get(names.nextInt(spCodes.size())));
          c.put("Currency_Code", currencies[names.nextInt(currencies.length)]);
          c.put("Customer_Price_Group", groups.length == 0 ? "" : groups[names.nextInt(groups.length)]);
          c.put("Payment_Terms_Code", terms[names.nextInt(terms.length)]);
          c.put("Shipment_Method_Code", ship[names.nextInt(ship.length)]);
          c.put("Shipping_Agent_Code", i % 5 == 0 ? "" : new String[] {"DHL", "FEDEX", "UPS", "OWN LOG."}[i % 4]);
          c.put("Credit_Limit_LCY", names.amount(5_000_000));
          c.put("Blocked", names.nextInt(50) == 0 ? "All" : " ");
          put(sim, "Customer", c);
        }
        int contacts = counts.getOrDefault("Contact", 0);
        for (int i = 1; i <= contacts; i++) {
          String first = names.firstName();
          String last = names.lastName();
          Map<String, Object> c = new LinkedHashMap<>();
          c.put("No", "CT" + (200000 + i));
          c.put("Type", "Person");
          if (!customerNos.isEmpty()) {
            c.put("Company_No", customerNos.get(names.nextInt(customerNos.size())));
          }
          c.put("Name", SeedNames.fit(first + " " + last, 100));
          c.put("First_Name", first);
          c.put("Surname", last);
          c.put("E_Mail", names.email(first, last + i, "contact.example"));
          c.put("Phone_No", names.phone());
          put(sim, "Contact", c);
        }
        String[] units = {"PCS", "BOX", "KG"};
        int items = counts.getOrDefault("Item", 0);
        for (int i = 1; i <= items; i++) {
          Map<String, Object> it = new LinkedHashMap<>();
          it.put("No", "I" + (1000 + i));
          it.put("Description", SeedNames.fit(names.company(i).replace(" ", "-") + " part", 100));
          it.put("Base_Unit_of_Measure", units[names.nextInt(units.length)]);
          it.put("Unit_Price", names.amount(100_000));
          it.put("Unit_Cost", names.amount(50_000));
          it.put("Inventory", names.nextInt(1000));
          it.put("Blocked", names.nextInt(40) == 0);
          put(sim, "Item", it);
          for (String g : groups) {
            if (names.nextInt(3) == 0) {
              put(sim, "SalesPrice", Map.of("Item_No", it.get("No"), "Sales_Type", "Customer Price Group",
                  "Sales_Code", g, "Currency_Code", names.nextInt(2) == 0 ? "" : "EUR",
                  "Unit_of_Measure_Code", it.get("Base_Unit_of_Measure"), "Starting_Date", "2026-01-01",
                  "Unit_Price", names.amount(100_000)));
            }
            if (priceLists && names.nextInt(3) == 0) {
              String list = names.nextInt(2) == 0 ? "S-" + g : "S-" + g + "-EUR";
              // Some lines are quantity breaks (minimum quantity 10), which the CRM's price list items cannot hold.
              put(sim, "PriceListLine", line(list, lineNos, "Item", (String) it.get("No"),
                  (String) it.get("Base_Unit_of_Measure"), names.nextInt(6) == 0 ? 10 : 0, names.amount(100_000)));
            }
          }
          if (priceLists && names.nextInt(4) == 0) {
            put(sim, "PriceListLine", line("S-ALL", lineNos, "Item", (String) it.get("No"),
                (String) it.get("Base_Unit_of_Measure"), 0, names.amount(100_000)));
            Map<String, Object> disc = line("S-DISC", lineNos, "Item", (String) it.get("No"),
                (String) it.get("Base_Unit_of_Measure"), 0, 0);
            disc.put("Line_Discount_Percent", 5);
            put(sim, "PriceListLine", disc);
            put(sim, "PriceListLine", line("P-VENDORS", lineNos, "Item", (String) it.get("No"),
                (String) it.get("Base_Unit_of_Measure"), 0, names.amount(50_000)));
          }
        }
        int resources = counts.getOrDefault("Resource", 0);
        for (int i = 1; i <= resources; i++) {
          put(sim, "Resource", Map.of("No", "R" + (100 + i), "Name", SeedNames.fit(names.firstName() + " "
              + names.lastName(), 100), "Base_Unit_of_Measure", "HOUR", "Unit_Price", names.amount(20_000)));
          if (priceLists && !named.isEmpty()) {
            put(sim, "PriceListLine", line("S-" + named.get(0), lineNos, "Resource", "R" + (100 + i), "HOUR", 0,
                names.amount(20_000)));
          }
        }
        return null;
      });
    } finally {
      sim.seeded();
    }
  }

  private static Map<String, Object> priceList(String code, String description, String sourceType, String sourceNo,
      String currency, String priceType, String amountType, String from, String to) {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("Code", code);
    h.put("Description", description);
    h.put("Source_Group", priceType.equals("Sale") ? "Customer" : "Vendor");
    h.put("Source_Type", sourceType);
    h.put("Source_No", sourceNo);
    h.put("Currency_Code", currency);
    h.put("Starting_Date", from);
    h.put("Ending_Date", to);
    h.put("Price_Type", priceType);
    h.put("Amount_Type", amountType);
    h.put("Status", "Active");
    return h;
  }

  private static Map<String, Object> line(String list, Map<String, Integer> lineNos, String assetType,
      String assetNo, String unit, int minimumQuantity, Object unitPrice) {
    Map<String, Object> l = new LinkedHashMap<>();
    l.put("Price_List_Code", list);
    l.put("Line_No", lineNos.merge(list, 10_000, Integer::sum));
    l.put("Asset_Type", assetType);
    l.put("Asset_No", assetNo);
    l.put("Unit_of_Measure_Code", unit);
    l.put("Minimum_Quantity", minimumQuantity);
    l.put("Unit_Price", unitPrice);
    l.put("Status", "Active");
    return l;
  }

  private static void put(ErpSimulator sim, String service, Map<String, Object> fields) {
    Service s = ErpSimulator.published(sim.options(), service);
    // A page the profile does not publish (SalesPrice on bc-online) gets no rows.
    if (s != null && sim.store().table(service).get(ErpKeys.of(s, fields)) == null) {
      sim.insert(s, fields);
    }
  }
}
