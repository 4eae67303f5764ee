/**
 * The Tandem plugin SPI. Entity plugins compile against this package only (plus vertx-core and pf4j, both
 * {@code provided}); everything else &mdash; PostgreSQL, Micrometer, HTTP connectors &mdash; stays in the runtime
 * and reaches a plugin through its {@link dev.tandem.api.PluginContext}.
 *
 * <p>A plugin is a PF4J plugin jar or zip holding one {@link dev.tandem.api.EntityPlugin} extension. It declares
 * {@link dev.tandem.api.MappingDefinition integration table mappings} and may contribute its own coupling and
 * sync verticles; the runtime dispatches jobs to them over the event bus at the addresses in
 * {@link dev.tandem.api.Addresses}.
 */
package dev.tandem.api;
