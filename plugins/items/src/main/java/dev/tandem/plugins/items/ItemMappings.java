package dev.tandem.plugins.items;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MatchField;
import dev.tandem.api.Transformation;

/**
 * The reference system's mappings for units of measure, items and resources. A unit of measure becomes a CRM
 * unit group (UNIT-OF-MEASURE) whose base unit is its own CRM unit (UNIT-OF-MEASURE-BASE); items and resources
 * become products with that group and unit as their defaults.
 */
public final class ItemMappings {

  /** Name of the mapping of ERP units of measure to CRM unit groups. */
  public static final String UNIT_GROUP = "UNIT-OF-MEASURE";
  /** Name of the mapping of ERP units of measure to the base units of their CRM unit groups. */
  public static final String BASE_UNIT = "UNIT-OF-MEASURE-BASE";
  /** Name of the mapping of ERP items to CRM products. */
  public static final String ITEM_PRODUCT = "ITEM-PRODUCT";
  /** Name of the mapping of ERP resources to CRM service products. */
  public static final String RESOURCE_PRODUCT = "RESOURCE-PRODUCT";

  /** Dataverse product type codes. */
  static final int SALES_INVENTORY = 1;
  static final int SERVICES = 3;

  private ItemMappings() {}

  /** Products are created in Draft; Tandem's are published (statecode Active), so orders can use them. */
  private static FieldMapping published() {
    return FieldMapping.of(null, "statecode", Direction.TO_CRM).withConstant(0);
  }

  /** Active's status: 1. */
  private static FieldMapping publishedStatus() {
    return FieldMapping.of(null, "statuscode", Direction.TO_CRM).withConstant(1);
  }

  /** A product's default unit group: its base unit of measure's group, through UNIT-OF-MEASURE. */
  private static FieldMapping defaultUnitGroup() {
    return FieldMapping.of("Base_Unit_of_Measure", "defaultuomscheduleid", Direction.TO_CRM).lookupThrough(UNIT_GROUP);
  }

  /** A product's default unit: its base unit of measure, through UNIT-OF-MEASURE-BASE. */
  private static FieldMapping defaultUnit() {
    return FieldMapping.of("Base_Unit_of_Measure", "defaultuomid", Direction.TO_CRM).lookupThrough(BASE_UNIT);
  }

  /**
   * UNIT-OF-MEASURE: each ERP unit of measure is a CRM unit group of its own, named by the unit's code, with the
   * code as the base unit's name.
   *
   * @return the mapping
   */
  public static MappingDefinition unitGroup() {
    return MappingDefinition.builder(UNIT_GROUP)
        .erp("UnitOfMeasure", "Code")
        .crm("uomschedules", "uomscheduleid")
        .direction(Direction.TO_CRM)
        .field("Code", "name", Direction.TO_CRM)
        .field("Code", "baseuomname", Direction.TO_CRM)
        .field(FieldMapping.of("Description", "description", Direction.TO_CRM)
            .transformedBy(Transformation.truncate(2000)))
        .filters(null, "statecode eq 0")
        .match(MatchField.of("Code", "name", 1))
        .build();
  }

  /**
   * UNIT-OF-MEASURE-BASE: the base unit of each unit's group, quantity 1, which Dataverse created with the group.
   * Products and price list items refer to it (a product needs its default unit as well as its default unit group).
   *
   * @return the mapping
   */
  public static MappingDefinition baseUnit() {
    return MappingDefinition.builder(BASE_UNIT)
        .erp("UnitOfMeasure", "Code")
        .crm("uoms", "uomid")
        .direction(Direction.TO_CRM)
        .field("Code", "name", Direction.TO_CRM)
        .field(FieldMapping.of("Code", "uomscheduleid", Direction.TO_CRM).lookupThrough(UNIT_GROUP))
        .field(FieldMapping.of(null, "quantity", Direction.TO_CRM).withConstant(1))
        .match(MatchField.of("Code", "name", 1))
        // Dataverse creates the base unit with its group, named by the group's baseuomname (the code): there is no
        // alternate key on uom, so Tandem finds that unit by its name and couples it instead of creating a second.
        .crmAlternateKey("name")
        .dependsOn(UNIT_GROUP)
        .build();
  }

  /**
   * ITEM-PRODUCT: items that are not blocked become sales inventory products; the inventory becomes the
   * quantity on hand, so each run keeps it current.
   *
   * @return the mapping
   */
  public static MappingDefinition itemProduct() {
    return MappingDefinition.builder(ITEM_PRODUCT)
        .erp("Item", "No")
        .crm("products", "productid")
        .direction(Direction.TO_CRM)
        .field("No", "productnumber", Direction.TO_CRM)
        .field(FieldMapping.of("Description", "name", Direction.TO_CRM).transformedBy(Transformation.truncate(100)))
        .field("Unit_Price", "price", Direction.TO_CRM)
        .field("Unit_Cost", "standardcost", Direction.TO_CRM)
        .field("Inventory", "quantityonhand", Direction.TO_CRM)
        .field(defaultUnitGroup())
        .field(defaultUnit())
        .field(FieldMapping.of(null, "producttypecode", Direction.TO_CRM).withConstant(SALES_INVENTORY))
        .field(published())
        .field(publishedStatus())
        .field(FieldMapping.of(null, "quantitydecimal", Direction.TO_CRM).withConstant(0))
        .filters("Blocked eq false", "producttypecode eq " + SALES_INVENTORY)
        .match(MatchField.of("No", "productnumber", 1))
        .dependsOn(UNIT_GROUP)
        .dependsOn(BASE_UNIT)
        .build();
  }

  /**
   * RESOURCE-PRODUCT: resources that are not blocked become service products.
   *
   * @return the mapping
   */
  public static MappingDefinition resourceProduct() {
    return MappingDefinition.builder(RESOURCE_PRODUCT)
        .erp("Resource", "No")
        .crm("products", "productid")
        .direction(Direction.TO_CRM)
        .field("No", "productnumber", Direction.TO_CRM)
        .field(FieldMapping.of("Name", "name", Direction.TO_CRM).transformedBy(Transformation.truncate(100)))
        .field("Unit_Price", "price", Direction.TO_CRM)
        .field("Unit_Cost", "standardcost", Direction.TO_CRM)
        .field(defaultUnitGroup())
        .field(defaultUnit())
        .field(FieldMapping.of(null, "producttypecode", Direction.TO_CRM).withConstant(SERVICES))
        .field(published())
        .field(publishedStatus())
        .field(FieldMapping.of(null, "quantitydecimal", Direction.TO_CRM).withConstant(2))
        .filters("Blocked eq false", "producttypecode eq " + SERVICES)
        .match(MatchField.of("No", "productnumber", 1))
        .dependsOn(UNIT_GROUP)
        .dependsOn(BASE_UNIT)
        .build();
  }
}
