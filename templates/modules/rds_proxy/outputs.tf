output "endpoint" {
  description = "Where clients connect through the proxy."
  value       = aws_db_proxy.this.endpoint
}

output "arn" {
  description = "ARN of the proxy."
  value       = aws_db_proxy.this.arn
}
