package dev.tandem.sim.crm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Solution files for the simulator's tests: zips laid out as Dataverse exports them. */
final class SolutionFiles {

  static final String CONTENT_TYPES = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Types xmlns=\"http://schemas."
      + "openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/"
      + "octet-stream\" /></Types>";

  private SolutionFiles() {}

  static String manifest(String name, String version) {
    return "<ImportExportXml version=\"9.2.0.0\" SolutionPackageVersion=\"9.2\" languagecode=\"1033\"><SolutionManifest>"
        + "<UniqueName>" + name + "</UniqueName><Version>" + version + "</Version><Managed>1</Managed>"
        + "<Publisher><UniqueName>tandem</UniqueName><CustomizationPrefix>tandem</CustomizationPrefix></Publisher>"
        + "</SolutionManifest></ImportExportXml>";
  }

  /**
   * Change tracking on account and product, the column tandem_balance on account, a key on accountnumber, and the
   * two integration roles.
   */
  static String customizations() {
    return "<ImportExportXml><Entities>"
        + "<Entity><Name>account</Name><EntityInfo><entity Name=\"account\"><ChangeTrackingEnabled>1</ChangeTrackingEnabled>"
        + "<attributes><attribute PhysicalName=\"tandem_balance\"><Type>money</Type><Name>tandem_balance</Name>"
        + "<LogicalName>tandem_balance</LogicalName></attribute></attributes>"
        + "<EntityKeys><EntityKey><LogicalName>tandem_accountnumber</LogicalName><Name>tandem_accountnumber</Name>"
        + "<EntityKeyAttributes><AttributeName>accountnumber</AttributeName></EntityKeyAttributes></EntityKey>"
        + "</EntityKeys></entity></EntityInfo></Entity>"
        + "<Entity><Name>product</Name><EntityInfo><entity Name=\"product\"><ChangeTrackingEnabled>1</ChangeTrackingEnabled>"
        + "</entity></EntityInfo></Entity></Entities>"
        + "<Roles><Role id=\"{6d1c3a40-6b0e-4c55-9d36-3f0f6c1e7a01}\" name=\"Integration Administrator\"/>"
        + "<Role id=\"{6d1c3a40-6b0e-4c55-9d36-3f0f6c1e7a02}\" name=\"Integration User\"/></Roles></ImportExportXml>";
  }

  /** @return Tandem's solution, version 1.0.0.0, base64 */
  static String tandem() {
    return base64(files(manifest("TandemIntegration", "1.0.0.0"), customizations()));
  }

  static Map<String, String> files(String manifest, String customizations) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("[Content_Types].xml", CONTENT_TYPES);
    f.put("solution.xml", manifest);
    f.put("customizations.xml", customizations);
    return f;
  }

  static String base64(Map<String, String> files) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, String> e : files.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return Base64.getEncoder().encodeToString(bytes.toByteArray());
  }
}
