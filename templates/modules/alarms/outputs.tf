output "topic_arn" {
  description = "SNS topic the alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of every alarm."
  value       = [for a in aws_cloudwatch_metric_alarm.database : a.alarm_name]
}
