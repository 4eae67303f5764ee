package dev.tandem.sim.crm;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * A solution file as {@code ImportSolution} reads it: a zip holding {@code solution.xml} (the manifest: unique name,
 * version, managed), {@code customizations.xml} (here: the tables' change tracking, their alternate keys and the
 * security roles) and {@code [Content_Types].xml} at its root. Dataverse refuses anything else with the errors
 * below (codes and messages from the SDK's ErrorCodes: ImportCustomizationsBadZipFileError 0x80048060,
 * ImportInvalidXmlError 0x8004802c, ImportXsdValidationError 0x8004801a).
 *
 * @param uniqueName the solution's unique name
 * @param version its version, {@code major.minor[.build[.revision]]}
 * @param managed whether it is managed
 * @param tracked tables whose change tracking it turns on
 * @param keys alternate keys it creates: table → (key schema name → columns)
 * @param roles security roles it brings
 * @param columns columns it adds (attributes: {@code <attributes><attribute><LogicalName>}): table → columns
 */
record SolutionFile(String uniqueName, String version, boolean managed, List<String> tracked,
    Map<String, Map<String, List<String>>> keys, List<String> roles, Map<String, List<String>> columns) {

  static final String BAD_ZIP = "0x80048060";
  static final String INVALID_XML = "0x8004802c";
  static final String XSD = "0x8004801a";
  private static final List<String> ROOT_FILES = List.of("solution.xml", "customizations.xml", "[Content_Types].xml");
  private static final Pattern VERSION = Pattern.compile("\\d{1,9}(\\.\\d{1,9}){1,3}");
  private static final long MAX_ENTRY = 32L * 1024 * 1024;

  /**
   * @param file the CustomizationFile's bytes
   * @return the solution
   * @throws DataverseSimulator.DvError with Dataverse's error when the file is not a solution it can import
   */
  static SolutionFile read(byte[] file) {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(file))) {
      for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
        byte[] content = zip.readNBytes((int) MAX_ENTRY + 1);
        if (content.length > MAX_ENTRY) {
          throw badZip();
        }
        entries.put(e.getName(), content);
      }
    } catch (IOException | IllegalArgumentException e) {
      throw badZip();
    }
    if (!entries.keySet().containsAll(ROOT_FILES)) {
      throw badZip();
    }
    Element manifest = child(parse(entries.get("solution.xml"), "solution.xml"), "SolutionManifest",
        "solution.xml");
    String name = text(manifest, "UniqueName", "solution.xml");
    String version = text(manifest, "Version", "solution.xml");
    if (!VERSION.matcher(version).matches()) {
      throw xsd("solution.xml: The 'Version' element is invalid - the value '" + version + "' is invalid according "
          + "to its datatype 'VersionType'");
    }
    String managed = text(manifest, "Managed", "solution.xml");
    if (!managed.equals("0") && !managed.equals("1") && !managed.equals("2")) {
      throw xsd("solution.xml: The 'Managed' element is invalid - the value '" + managed + "' is invalid");
    }
    Element custom = parse(entries.get("customizations.xml"), "customizations.xml");
    List<String> tracked = new ArrayList<>();
    Map<String, Map<String, List<String>>> keys = new LinkedHashMap<>();
    Map<String, List<String>> added = new LinkedHashMap<>();
    NodeList entities = custom.getElementsByTagName("entity");
    for (int i = 0; i < entities.getLength(); i++) {
      Element entity = (Element) entities.item(i);
      String table = entity.getAttribute("Name").toLowerCase(Locale.ROOT);
      if (table.isEmpty()) {
        throw xsd("customizations.xml: The required attribute 'Name' is missing on element 'entity'");
      }
      Element ct = optionalChild(entity, "ChangeTrackingEnabled");
      if (ct != null && ct.getTextContent().trim().equals("1")) {
        tracked.add(table);
      }
      NodeList as = entity.getElementsByTagName("attribute");
      for (int a = 0; a < as.getLength(); a++) {
        Element attribute = (Element) as.item(a);
        added.computeIfAbsent(table, t -> new ArrayList<>()).add(text(attribute, "LogicalName", "customizations.xml")
            .toLowerCase(Locale.ROOT));
        text(attribute, "Type", "customizations.xml");
      }
      NodeList ks = entity.getElementsByTagName("EntityKey");
      for (int k = 0; k < ks.getLength(); k++) {
        Element key = (Element) ks.item(k);
        String keyName = text(key, "LogicalName", "customizations.xml");
        List<String> columns = new ArrayList<>();
        NodeList attrs = key.getElementsByTagName("AttributeName");
        for (int a = 0; a < attrs.getLength(); a++) {
          columns.add(attrs.item(a).getTextContent().trim().toLowerCase(Locale.ROOT));
        }
        if (columns.isEmpty()) {
          throw xsd("customizations.xml: The element 'EntityKeyAttributes' of key " + keyName + " has incomplete "
              + "content. List of possible elements expected: 'AttributeName'");
        }
        keys.computeIfAbsent(table, t -> new LinkedHashMap<>()).put(keyName, columns);
      }
    }
    List<String> roles = new ArrayList<>();
    NodeList rs = custom.getElementsByTagName("Role");
    for (int i = 0; i < rs.getLength(); i++) {
      String role = ((Element) rs.item(i)).getAttribute("name");
      if (role.isBlank()) {
        throw xsd("customizations.xml: The required attribute 'name' is missing on element 'Role'");
      }
      roles.add(role);
    }
    return new SolutionFile(name, version, !managed.equals("0"), List.copyOf(tracked), keys, List.copyOf(roles),
        added);
  }

  private static Element parse(byte[] xml, String file) {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setExpandEntityReferences(false);
      DocumentBuilder b = f.newDocumentBuilder();
      b.setErrorHandler(null);
      Document d = b.parse(new ByteArrayInputStream(xml));
      Element root = d.getDocumentElement();
      if (!root.getTagName().equals("ImportExportXml")) {
        throw xsd(file + ": The root element must be 'ImportExportXml', not '" + root.getTagName() + "'");
      }
      return root;
    } catch (SAXException | IOException | ParserConfigurationException e) {
      throw new DataverseSimulator.DvError(DataverseSimulator.error(400, INVALID_XML, "This solution package "
          + "cannot be imported because it contains invalid XML (" + file + "). You can attempt to repair the file "
          + "by manually editing the XML contents using the information found in the schema validation errors, or "
          + "you can contact your solution provider."));
    }
  }

  private static Element optionalChild(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        return e;
      }
    }
    return null;
  }

  private static Element child(Element parent, String name, String file) {
    Element e = optionalChild(parent, name);
    if (e == null) {
      throw xsd(file + ": The element '" + parent.getTagName() + "' has incomplete content. List of possible "
          + "elements expected: '" + name + "'");
    }
    return e;
  }

  private static String text(Element parent, String name, String file) {
    String t = child(parent, name, file).getTextContent().trim();
    if (t.isEmpty()) {
      throw xsd(file + ": The '" + name + "' element is invalid - the value '' is invalid");
    }
    return t;
  }

  private static DataverseSimulator.DvError badZip() {
    return new DataverseSimulator.DvError(DataverseSimulator.error(400, BAD_ZIP, "The solution file is invalid. "
        + "The compressed file must contain the following files at its root: solution.xml, customizations.xml, and "
        + "[Content_Types].xml. Customization files exported from previous versions of Microsoft Dynamics CRM are "
        + "not supported."));
  }

  private static DataverseSimulator.DvError xsd(String what) {
    return new DataverseSimulator.DvError(DataverseSimulator.error(400, XSD, "The import file is invalid. XSD "
        + "validation failed with the following error: '" + what + "'."));
  }
}
