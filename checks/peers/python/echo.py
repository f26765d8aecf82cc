# Echoes any JSON event back unchanged, on AWS's Python runtime interface client
# (`python3 -m awslambdaric echo.handler`): the Python peer in `faas-check bench`.
def handler(event, context):
    return event
