package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.OptionMapping;
import dev.tandem.api.Stage;
import dev.tandem.api.Transformation;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RecordMapperTest {

  private static final MappingDefinition SALESPEOPLE = MappingDefinition.builder("SALESPEOPLE")
      .erp("SalespersonPurchaser", "Code").crm("systemusers", "systemuserid").direction(Direction.FROM_CRM).build();

  private static final MappingDefinition CUSTOMER = MappingDefinition.builder("CUSTOMER")
      .erp("Customer", "No").crm("accounts", "accountid")
      .field("Name", "name", Direction.BIDIRECTIONAL)
      .field(FieldMapping.of("City", "address1_city", Direction.BIDIRECTIONAL).transformedBy(Transformation.TRIM))
      .field("Credit_Limit_LCY", "creditlimit", Direction.TO_CRM)
      .field(FieldMapping.of(null, "customertypecode", Direction.TO_CRM).withConstant(3))
      .field(FieldMapping.of("Salesperson_Code", "ownerid", Direction.BIDIRECTIONAL).lookupThrough("SALESPEOPLE"))
      .field(FieldMapping.of("Currency_Code", "transactioncurrencyid", Direction.TO_CRM).lookupThrough("CURRENCY"))
      .option(new OptionMapping("Payment_Terms_Code", "paymenttermscode", Direction.TO_CRM,
          Map.of("30 DAYS", 2, "14 DAYS", 1)))
      .dependsOn("SALESPEOPLE")
      .build();

  private static final RecordMapper.Lookups COUPLED = (mapping, flow, key) ->
      mapping.equals("SALESPEOPLE") ? Map.of("JR", "aaaaaaaa-0000-0000-0000-000000000001",
          "bbbbbbbb-0000-0000-0000-000000000002", "PS").get(key) : null;

  // CURRENCY is not installed: its lookup field is left out, as the optional dependency says.
  private final RecordMapper mapper = new RecordMapper(CUSTOMER, Set.of(),
      name -> name.equals("SALESPEOPLE") ? SALESPEOPLE : null);

  private static JsonObject customer() {
    return new JsonObject().put("No", "C1").put("Name", "O'Brien Ltd.").put("City", " Dublin ")
        .put("Credit_Limit_LCY", 1500).put("Salesperson_Code", "JR").put("Currency_Code", "EUR")
        .put("Payment_Terms_Code", "30 DAYS");
  }

  @Test
  void mapsFieldsConstantsTransformationsOptionsAndLookupsToTheCrm() {
    RecordMapper.Mapped m = mapper.map(Direction.TO_CRM, customer(), COUPLED);
    assertNull(m.error());
    assertEquals("O'Brien Ltd.", m.values().get("name"));
    assertEquals("Dublin", m.values().get("address1_city"));
    assertEquals(1500, m.values().get("creditlimit"));
    assertEquals(3, m.values().get("customertypecode"));
    assertEquals("/systemusers(aaaaaaaa-0000-0000-0000-000000000001)", m.values().get("ownerid@odata.bind"));
    assertEquals(2, m.values().get("paymenttermscode"));
    assertTrue(!m.values().containsKey("transactioncurrencyid@odata.bind"), "CURRENCY not installed: left out");
    assertEquals(Map.of("SALESPEOPLE", Set.of("JR")), mapper.references(Direction.TO_CRM, List.of(customer())));
  }

  @Test
  void anUncoupledReferenceFailsTheRecordNamingItAndTheMappingToRunFirst() {
    RecordMapper.Mapped m = mapper.map(Direction.TO_CRM, customer().put("Salesperson_Code", "ZZ"), COUPLED);
    assertEquals(Stage.LOOKUP, m.error().stage());
    assertEquals("ERP Customer C1: Salesperson_Code refers to ZZ, which is not coupled in mapping SALESPEOPLE: "
        + "couple or synchronize SALESPEOPLE first", m.error().getMessage());
    RecordMapper.Mapped unknownOption = mapper.map(Direction.TO_CRM, customer().put("Payment_Terms_Code", "COD"), COUPLED);
    assertEquals(Stage.TRANSFORM, unknownOption.error().stage());
    assertTrue(unknownOption.error().getMessage().contains("'COD' has no option mapping to paymenttermscode"));
  }

  @Test
  void fromTheCrmOnlyBidirectionalAndFromCrmFieldsFlow() {
    JsonObject account = new JsonObject().put("accountid", "11111111-0000-0000-0000-000000000000")
        .put("name", "Renamed").put("address1_city", "Cork").put("creditlimit", 99)
        .put("_ownerid_value", "bbbbbbbb-0000-0000-0000-000000000002");
    RecordMapper.Mapped m = mapper.map(Direction.FROM_CRM, account, COUPLED);
    assertNull(m.error());
    assertEquals(Map.of("Name", "Renamed", "City", "Cork", "Salesperson_Code", "PS"), m.values());
  }

  @Test
  void onlyChangedFieldsAreWritten() {
    Map<String, Object> desired = mapper.map(Direction.TO_CRM, customer(), COUPLED).values();
    JsonObject current = new JsonObject().put("name", "O'Brien Ltd.").put("address1_city", "Dublin")
        .put("creditlimit", 1500.0).put("customertypecode", 3).put("paymenttermscode", 2)
        .put("_ownerid_value", "AAAAAAAA-0000-0000-0000-000000000001");
    assertEquals(Map.of(), RecordMapper.changes(Direction.TO_CRM, desired, current), "nothing changed");
    current.put("address1_city", "Cork").putNull("creditlimit");
    assertEquals(Map.of("address1_city", "Dublin", "creditlimit", 1500),
        RecordMapper.changes(Direction.TO_CRM, desired, current));
    assertEquals(desired, RecordMapper.changes(Direction.TO_CRM, desired, null), "a new record gets everything");
    assertTrue(RecordMapper.same("", null));
    assertTrue(RecordMapper.same(1500, "1500.00"));
  }

  @Test
  void disabledFieldsAreNeitherReadNorWritten() {
    RecordMapper withoutCity = new RecordMapper(CUSTOMER, Set.of("City"), name -> SALESPEOPLE);
    assertTrue(!withoutCity.map(Direction.TO_CRM, customer(), COUPLED).values().containsKey("address1_city"));
  }

  @Test
  void constantReferencesAndTransformedReferencesResolveThroughTheirLookup() {
    MappingDefinition currency = MappingDefinition.builder("CURRENCY").erp("Currency", "Code")
        .crm("transactioncurrencies", "transactioncurrencyid").direction(Direction.TO_CRM).build();
    MappingDefinition prices = MappingDefinition.builder("PRICES").erp("SalesPrice", "SystemId")
        .crm("productpricelevels", "productpricelevelid").direction(Direction.TO_CRM)
        .field(FieldMapping.of(null, "transactioncurrencyid", Direction.TO_CRM).withConstant("usd")
            .transformedBy(Transformation.UPPER_CASE).lookupThrough("CURRENCY"))
        .field(FieldMapping.of("Currency_Code", "othercurrencyid", Direction.TO_CRM)
            .transformedBy(new Transformation("orElseUsd", v -> "".equals(v) ? "USD" : v)).lookupThrough("CURRENCY"))
        .build();
    RecordMapper m = new RecordMapper(prices, Set.of(), n -> n.equals("CURRENCY") ? currency : null);
    List<JsonObject> rows = List.of(new JsonObject().put("SystemId", "x").put("Currency_Code", ""),
        new JsonObject().put("SystemId", "y").put("Currency_Code", "EUR"));
    assertEquals(Map.of("CURRENCY", Set.of("USD", "EUR")), m.references(Direction.TO_CRM, rows),
        "the references as the lookup sees them: constants too, after transformations");
    RecordMapper.Lookups ids = (mapping, flow, key) -> Map.of("USD", "aaaaaaaa-0000-0000-0000-00000000000a",
        "EUR", "aaaaaaaa-0000-0000-0000-00000000000e").get(key);
    RecordMapper.Mapped empty = m.map(Direction.TO_CRM, rows.get(0), ids);
    assertEquals("/transactioncurrencies(aaaaaaaa-0000-0000-0000-00000000000a)",
        empty.values().get("transactioncurrencyid@odata.bind"));
    assertEquals("/transactioncurrencies(aaaaaaaa-0000-0000-0000-00000000000a)",
        empty.values().get("othercurrencyid@odata.bind"));
    assertEquals("/transactioncurrencies(aaaaaaaa-0000-0000-0000-00000000000e)",
        m.map(Direction.TO_CRM, rows.get(1), ids).values().get("othercurrencyid@odata.bind"));
    RecordMapper.Mapped uncoupled = m.map(Direction.TO_CRM, rows.get(0), (mapping, flow, key) -> null);
    assertEquals("ERP SalesPrice x: the constant of transactioncurrencyid refers to USD, which is not coupled in "
        + "mapping CURRENCY: couple or synchronize CURRENCY first", uncoupled.error().getMessage());
  }

  @Test
  void truncationNeverHalvesASurrogatePair() {
    MappingDefinition names = MappingDefinition.builder("NAMES").erp("Customer", "No").crm("accounts", "accountid")
        .direction(Direction.FROM_CRM)
        .field(FieldMapping.of("Name", "name", Direction.FROM_CRM).transformedBy(Transformation.truncate(100)))
        .build();
    RecordMapper m = new RecordMapper(names, Set.of(), n -> null);
    String emoji = "\uD83D\uDE00";
    String cut = (String) m.map(Direction.FROM_CRM, new JsonObject().put("accountid", "a")
        .put("name", "x".repeat(99) + emoji), (a, b, c) -> null).values().get("Name");
    assertEquals("x".repeat(99), cut, "the emoji does not fit whole in 100 characters: it is left out, not halved");
    assertTrue(cut.codePoints().noneMatch(cp -> Character.isSurrogate((char) cp)));
    String fits = "x".repeat(98) + emoji;
    assertEquals(fits, m.map(Direction.FROM_CRM, new JsonObject().put("accountid", "a").put("name", fits + "yz"),
        (a, b, c) -> null).values().get("Name"), "an emoji that fits stays whole");
  }

  @Test
  void aLookupThroughAnOptionSetMappingWritesTheOptionValue() {
    MappingDefinition terms = MappingDefinition.builder("PAYMENT-TERMS").erp("PaymentTerms", "Code")
        .crmOptionSet("account", "paymenttermscode").direction(Direction.TO_CRM).build();
    assertTrue(terms.isOptionSet());
    assertEquals("account", terms.optionSetEntity());
    assertEquals("paymenttermscode", terms.optionSetAttribute());
    MappingDefinition account = MappingDefinition.builder("ACCOUNT-TERMS").erp("Customer", "No")
        .crm("accounts", "accountid").direction(Direction.TO_CRM)
        .field(FieldMapping.of("Payment_Terms_Code", "paymenttermscode", Direction.TO_CRM).lookupThrough("PAYMENT-TERMS"))
        .build();
    RecordMapper m = new RecordMapper(account, Set.of(), n -> n.equals("PAYMENT-TERMS") ? terms : null);
    RecordMapper.Lookups options = (mapping, flow, key) -> mapping.equals("PAYMENT-TERMS") && key.equals("COD")
        ? "100000003" : null;
    RecordMapper.Mapped cod = m.map(Direction.TO_CRM, new JsonObject().put("No", "C1").put("Payment_Terms_Code", "COD"),
        options);
    assertNull(cod.error());
    assertEquals(Map.of("paymenttermscode", 100000003), cod.values(), "the value itself, no @odata.bind");
    RecordMapper.Mapped none = m.map(Direction.TO_CRM, new JsonObject().put("No", "C2").put("Payment_Terms_Code", ""),
        options);
    assertTrue(none.values().containsKey("paymenttermscode") && none.values().get("paymenttermscode") == null);
    RecordMapper.Mapped missing = m.map(Direction.TO_CRM, new JsonObject().put("No", "C3")
        .put("Payment_Terms_Code", "CM"), options);
    assertEquals(Stage.LOOKUP, missing.error().stage());
    assertEquals("ERP Customer C3: Payment_Terms_Code 'CM' has no option in paymenttermscode: synchronize "
        + "PAYMENT-TERMS first, which adds it", missing.error().getMessage());
    assertTrue(RecordMapper.changes(Direction.TO_CRM, cod.values(), new JsonObject().put("paymenttermscode", 100000003))
        .isEmpty(), "an unchanged option is not written");
    IllegalArgumentException twoWay = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> MappingDefinition.builder("X").erp("PaymentTerms", "Code").crmOptionSet("account", "paymenttermscode")
            .direction(Direction.BIDIRECTIONAL).build());
    assertTrue(twoWay.getMessage().contains("TO_CRM only"), twoWay.getMessage());
  }
}
