"""The Neo4j engine: Cypher over Bolt and Graph Data Science."""
