/**
 * Binding plugin config records from YAML or maps with every violation reported at once; see {@link
 * dev.entity.core.config.ConfigBinder} for the key naming and defaults conventions.
 */
package dev.entity.core.config;
