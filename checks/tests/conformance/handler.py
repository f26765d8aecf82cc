# A Python function for AWS's own runtime interface client (awslambdaric): if the emulator
# answers it correctly, the emulator speaks the real Runtime API, not only our dialect of it.
def handler(event, context):
    if event.get("fail"):
        raise ValueError("python says no")
    return {"echo": event, "requestId": context.aws_request_id, "arn": context.invoked_function_arn}
